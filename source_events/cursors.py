"""Incremental cursors for the two streams.

The CDK's `incremental_sync` accepts only DatetimeBasedCursor and IncrementingCountCursor. Neither fits:
Flameup timestamps may carry up to 9 fractional digits, which the CDK's strptime parsing rejects, and bem's
cursor is an opaque, second-ordered ID. SourceEvents.streams attaches these cursors (declared under
`definitions.incremental_cursors` in manifest.yaml) to the streams the manifest builds.

Both cursors emit state through the source's message repository, which shares one queue with the records:
the concurrent reader puts each record on the queue before calling `observe`, and calls `close_partition`
after the last one, so a state message never overtakes the records it covers.
"""

import logging
import threading
import time
from collections.abc import Iterable, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.components import event_time, events_page
from source_events.ksuid import ksuid_seconds
from source_events.timestamps import format_timestamp, parse_timestamp
from source_events.windows import Probe, ProbeRange, WindowPlanner

LOGGER = logging.getLogger("airbyte")


def _state_error(stream_name: str, detail: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=(
            f"The saved state of stream {stream_name} is unusable ({detail}). Reset the stream's state "
            "(in Airbyte: the stream's 'Clear data'), or pass a state written by this connector."
        ),
        internal_message=f"invalid state for {stream_name}: {detail}",
        failure_type=FailureType.config_error,
    )


class ReadProgress:
    """Logs how far a long read has come, per stream, at most every INTERVAL_SECONDS.

    The clock is looked at every CHECK_EVERY records only, to keep the per-record cost at a counter.
    """

    INTERVAL_SECONDS = 30.0
    CHECK_EVERY = 1000

    def __init__(self, stream_name: str) -> None:
        self._stream_name = stream_name
        self._count = 0
        self._started = time.monotonic()
        self._next_log = self._started + self.INTERVAL_SECONDS

    def count(self) -> None:
        self._count += 1
        if self._count % self.CHECK_EVERY == 0 and time.monotonic() >= self._next_log:
            elapsed = time.monotonic() - self._started
            LOGGER.info(
                f"Stream {self._stream_name}: {self._count:,} records read in {elapsed:,.0f} s ({self._count / elapsed:,.0f} records/s)"
            )
            self._next_log = time.monotonic() + self.INTERVAL_SECONDS


class _CheckpointingCursor(Cursor):
    """What both cursors share: where state goes and how it is emitted, and progress logging."""

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
    ) -> None:
        self._stream_name = stream_name
        self.cursor_field = cursor_field
        self._message_repository = message_repository
        self._connector_state_manager = connector_state_manager
        self._lock = threading.Lock()
        self._progress = ReadProgress(stream_name)

    def _emit_state(self) -> None:
        self._connector_state_manager.update_state_for_stream(self._stream_name, None, self.state)
        self._message_repository.emit_message(
            self._connector_state_manager.create_state_message(self._stream_name, None)
        )

    def ensure_at_least_one_state_emitted(self) -> None:
        with self._lock:
            self._emit_state()

    def should_be_synced(self, record: Record) -> bool:
        return True


class FlameupWindowCursor(_CheckpointingCursor):
    """Time windows over `timestamp`, half-open, sized by source_events.windows, checkpointed per window.

    State: `{"timestamp": "2026-11-26T09:00:00.123456Z"}`, the end of the last window such that it and
    every window before it were read completely; microseconds, never rounded to seconds.

    A sync reads windows that tile [lower, now), where lower is `start_date` on the first sync and
    `state - lookback_window_minutes` afterwards, so events that arrive late with an earlier timestamp are
    caught. Windows may finish out of order under concurrency; state only advances over a
    contiguous prefix of finished windows, so a killed sync resumes at the first unfinished one.
    """

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        start_date: datetime,
        lookback: timedelta,
        planner: WindowPlanner,
        stream_state: Mapping[str, Any],
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
    ) -> None:
        super().__init__(stream_name, cursor_field, message_repository, connector_state_manager)
        self._planner = planner
        self._saved: datetime | None = self._read_state(stream_state)
        self._lower = max(start_date, self._saved - lookback) if self._saved else start_date
        self._frontier = self._lower
        self._finished: dict[datetime, datetime] = {}

    @classmethod
    def create(
        cls, *, stream_name: str, cursor_field: str, settings: Any, requester: Any, **kwargs: Any
    ) -> "FlameupWindowCursor":
        return cls(
            stream_name,
            cursor_field,
            start_date=settings.flameup.start_date,
            lookback=timedelta(minutes=settings.flameup.lookback_window_minutes),
            planner=WindowPlanner(_probe_through(requester), settings.flameup.page_size),
            **kwargs,
        )

    def _read_state(self, stream_state: Mapping[str, Any]) -> datetime | None:
        if not stream_state:
            return None
        if stream_state.get("state_type") == "date-range":
            return self._read_date_range_state(stream_state.get("slices"))
        value = stream_state.get(self.cursor_field)
        if not isinstance(value, str):
            raise _state_error(self._stream_name, f"no `{self.cursor_field}` date-time")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise _state_error(self._stream_name, f"`{self.cursor_field}` is not a date-time") from None

    def _read_date_range_state(self, slices: Any) -> datetime | None:
        """The CDK's concurrent cursor state (what a DatetimeBasedCursor writes): resume at the end of the
        first contiguous run of finished slices."""
        try:
            ranges = sorted((parse_timestamp(s["start"]), parse_timestamp(s["end"])) for s in slices)
        except (KeyError, TypeError, ValueError):
            raise _state_error(
                self._stream_name, "a date-range state whose slices have no start/end date-times"
            ) from None
        if not ranges:
            return None
        frontier = ranges[0][1]
        for start, end in ranges[1:]:
            if start > frontier:
                break
            frontier = max(frontier, end)
        return frontier

    @property
    def state(self) -> MutableMapping[str, Any]:
        read_up_to = self._frontier if self._frontier > self._lower else None
        newest = max((t for t in (self._saved, read_up_to) if t), default=None)
        return {self.cursor_field: format_timestamp(newest)} if newest else {}

    def stream_slices(self) -> Iterable[StreamSlice]:
        now = datetime.now(UTC)
        if self._lower >= now:
            LOGGER.warning(f"Stream {self._stream_name}: the saved state is in the future; nothing to read until then.")
            return
        for start, end in self._planner.windows(self._lower, now):
            yield _window_slice(start, end)

    def observe(self, record: Record) -> None:
        # FlameupSliceWindowFilter already keeps every record inside its window; state moves per window.
        self._progress.count()

    def close_partition(self, partition: Partition) -> None:
        window = partition.to_slice()
        start, end = parse_timestamp(window["start_time"]), parse_timestamp(window["end_time"])
        with self._lock:
            self._finished[start] = end
            while self._frontier in self._finished:
                self._frontier = self._finished.pop(self._frontier)
            self._emit_state()


def _window_slice(start: datetime, end: datetime) -> StreamSlice:
    return StreamSlice(
        partition={}, cursor_slice={"start_time": format_timestamp(start), "end_time": format_timestamp(end)}
    )


def _probe_through(requester: Any) -> ProbeRange:
    """A WindowPlanner probe sent by the stream's own requester: its auth, error handling and API budget."""

    def probe(lower: datetime, upper: datetime, offset: int, limit: int) -> Probe:
        response = requester.send_request(
            stream_slice=_window_slice(lower, upper), request_params={"limit": limit, "offset": offset}
        )
        if response is None:
            return Probe(total=None, timestamps=[])
        events, total = events_page(response)
        return Probe(total=total, timestamps=[event_time(event) for event in events])

    return probe


class BemEventIdCursor(_CheckpointingCursor):
    """Resumes bem's ID-ordered list from a real, earlier event ID, and skips what it already emitted.

    bem IDs order by time only to the second: events created in the same second sort in random order, and
    whether the list is sorted by ID or by creation time is undocumented. Resuming strictly after the last
    ID read can therefore skip an event created in that same second that sorts before it. So state keeps:

        {"eventID": "<last ID read>",
         "starting_after": "<the last ID read whose second is earlier than the one after it>",
         "already_read": ["<every ID read after starting_after>", ...]}

    The next sync asks for `startingAfter=<starting_after>` (an ID the API returned, never a made-up one)
    and drops `already_read`. Under either sort order every event not yet read lies after
    `starting_after`, and `already_read` holds at most the events of the last second read. State is
    checkpointed every `checkpoint_every` records (one page) and at the end.

    An ID that does not decode as a KSUID falls back to its position in the listing, in blocks of one
    page: the resume point is then the last ID of the previous block instead of the previous second.
    """

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        checkpoint_every: int,
        stream_state: Mapping[str, Any],
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
    ) -> None:
        super().__init__(stream_name, cursor_field, message_repository, connector_state_manager)
        self._checkpoint_every = checkpoint_every
        self._last_id, self._starting_after, already_read = self._read_state(stream_state)
        self._skip_ids = list(already_read)
        # (id, time bucket) of each ID read after _starting_after, in the order the API listed them
        self._tail: list[tuple[str, int]] = [(i, self._bucket(i, 0)) for i in already_read]
        self._observed = 0

    @classmethod
    def create(
        cls, *, stream_name: str, cursor_field: str, settings: Any, requester: Any, **kwargs: Any
    ) -> "BemEventIdCursor":
        # `requester` is unused: bem has one slice, so nothing to plan (FlameupWindowCursor probes through it)
        return cls(stream_name, cursor_field, checkpoint_every=settings.bem.page_size, **kwargs)

    def _read_state(self, stream_state: Mapping[str, Any]) -> tuple[str | None, str | None, list[str]]:
        if not stream_state:
            return None, None, []
        last_id = stream_state.get(self.cursor_field)
        starting_after = stream_state.get("starting_after", last_id)
        already_read = stream_state.get("already_read", [])
        if not isinstance(last_id, str) or not isinstance(starting_after, (str, type(None))):
            raise _state_error(self._stream_name, f"no `{self.cursor_field}` event ID")
        if not isinstance(already_read, list) or not all(isinstance(i, str) for i in already_read):
            raise _state_error(self._stream_name, "`already_read` is not a list of event IDs")
        return last_id, starting_after, already_read

    def _bucket(self, event_id: str, position: int) -> int:
        seconds = ksuid_seconds(event_id)
        return seconds if seconds is not None else position // self._checkpoint_every

    @property
    def state(self) -> MutableMapping[str, Any]:
        if self._last_id is None:
            return {}
        state: dict[str, Any] = {self.cursor_field: self._last_id}
        if self._starting_after:
            state["starting_after"] = self._starting_after
        state["already_read"] = [event_id for event_id, _ in self._tail]
        return state

    def stream_slices(self) -> Iterable[StreamSlice]:
        cursor_slice: dict[str, Any] = {}
        if self._starting_after:
            cursor_slice["starting_after"] = self._starting_after
        if self._skip_ids:
            cursor_slice["skip_ids"] = self._skip_ids
        yield StreamSlice(partition={}, cursor_slice=cursor_slice)

    def observe(self, record: Record) -> None:
        event_id = record.data[self.cursor_field]
        with self._lock:
            bucket = self._bucket(event_id, self._observed)
            if self._tail and bucket > self._tail[-1][1]:
                # every ID read so far is from an earlier second than this one: resume after the newest
                self._starting_after = self._tail[-1][0]
                self._tail.clear()
            self._tail.append((event_id, bucket))
            self._last_id = event_id
            self._observed += 1
            self._progress.count()
            if self._observed % self._checkpoint_every == 0:
                self._emit_state()

    def close_partition(self, partition: Partition) -> None:
        with self._lock:
            self._emit_state()
