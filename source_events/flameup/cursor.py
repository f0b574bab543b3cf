"""Flameup's cursor: time windows over `timestamp`, checkpointed per window, and its state."""

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.common.checkpoints import LOGGER, CheckpointingCursor, state_error
from source_events.common.timestamps import format_timestamp, parse_timestamp
from source_events.flameup.in_flight import SyncEnded, WindowsInFlight
from source_events.flameup.probes import FirstLook, FlameupProbes
from source_events.flameup.retriever import FlameupRetriever
from source_events.flameup.windows import WindowPlanner, window_slice


class FlameupWindowCursor(CheckpointingCursor):
    """Time windows over `timestamp`, half-open, sized by source_events.flameup.windows, checkpointed per window.

    State: `{"timestamp": "2026-11-26T09:00:00.123456Z"}`, the end of the last window such that it and
    every window before it were read completely; microseconds, never rounded to seconds.

    A sync reads windows that tile [lower, now), where lower is `start_date` on the first sync and
    `state - lookback_window_minutes` afterwards, so events that arrive late with an earlier timestamp are
    caught. Windows are read one at a time while one reader keeps Flameup's pace, side by side where it takes
    more (source_events.flameup.in_flight); they may then finish out of order, and state only advances over a
    contiguous prefix of finished windows, so a killed sync resumes at the first unfinished one.
    """

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        start_date: datetime,
        lookback: timedelta,
        probes: FlameupProbes,
        planner: WindowPlanner,
        in_flight: WindowsInFlight,
        stream_state: Mapping[str, Any],
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
        scope: Mapping[str, Any],
    ) -> None:
        super().__init__(stream_name, cursor_field, message_repository, connector_state_manager)
        self._probes = probes
        self._planner = planner
        self._in_flight = in_flight
        self._saved: datetime | None = self._read_state(self._resumed_from(stream_state, scope))
        self._lower = max(start_date, self._saved - lookback) if self._saved else start_date
        self._frontier = self._lower
        self._finished: dict[datetime, datetime] = {}

    @classmethod
    def create(
        cls, *, stream_name: str, cursor_field: str, settings: Any, retriever: FlameupRetriever, **kwargs: Any
    ) -> "FlameupWindowCursor":
        probes = FlameupProbes(retriever)
        retriever.history_start = settings.flameup.start_date
        return cls(
            stream_name,
            cursor_field,
            start_date=settings.flameup.start_date,
            lookback=timedelta(minutes=settings.flameup.lookback_window_minutes),
            probes=probes,
            planner=WindowPlanner(probes.holds_more_than, lambda: retriever.page_sizes.full),
            in_flight=retriever.windows_in_flight,
            scope=settings.flameup.state_scope(),
            **kwargs,
        )

    def _read_state(self, stream_state: Mapping[str, Any]) -> datetime | None:
        if not stream_state:
            return None
        if stream_state.get("state_type") == "date-range":
            return self._read_date_range_state(stream_state.get("slices"))
        value = stream_state.get(self.cursor_field)
        if not isinstance(value, str):
            raise state_error(self._stream_name, f"no `{self.cursor_field}` date-time")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise state_error(self._stream_name, f"`{self.cursor_field}` is not a date-time") from None

    def _read_date_range_state(self, slices: Any) -> datetime | None:
        """The CDK's concurrent cursor state (what a DatetimeBasedCursor writes): resume at the end of the
        first contiguous run of finished slices."""
        try:
            ranges = sorted((parse_timestamp(s["start"]), parse_timestamp(s["end"])) for s in slices)
        except (KeyError, TypeError, ValueError):
            raise state_error(
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
        self._progress.start()
        now = datetime.now(timezone.utc)
        if self._lower >= now:
            LOGGER.warning(f"Stream {self._stream_name}: the saved state is in the future; nothing to read until then.")
            return
        look = self._probes.first_look(self._lower, now)
        self._estimate(look.total)
        if look.found is not FirstLook.MORE:  # at most a page: one window
            yield window_slice(self._lower, now)
            return
        for start, end in self._planner.windows(self._lower, now):
            window = window_slice(start, end)
            # planned ahead, started once the windows being read leave room (source_events.flameup.in_flight)
            try:
                self._in_flight.admit((window["start_time"], window["end_time"]))
            except SyncEnded:
                return  # a window failed (the sync fails with its error), or the read ended: nothing more to read
            yield window

    def stop(self) -> None:
        """The sync stopped reading: the window planned next is not started (its thread would wait for it)."""
        self._in_flight.close()

    def observe(self, record: Record) -> None:
        # state moves per window, once the window was read to its end (close_partition)
        self._progress.count()

    def close_partition(self, partition: Partition) -> None:
        window = partition.to_slice()
        start, end = parse_timestamp(window["start_time"]), parse_timestamp(window["end_time"])
        with self._lock:
            self._finished[start] = end
            while self._frontier in self._finished:
                self._frontier = self._finished.pop(self._frontier)
            self._refresh_estimate()
            self._emit_state()
