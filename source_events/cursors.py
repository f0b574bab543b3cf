"""bem's incremental cursor (being moved to source_events.bem)."""

from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.bem.ksuid import ksuid_seconds
from source_events.common.checkpoints import CheckpointingCursor, state_error
from source_events.two_ended import NEWEST_FIRST, OLDEST_FIRST, Front, Meeting, Top, past


class ListingPosition:
    """Where one reader of bem's listing can resume: a real ID to ask `startingAfter` for, and the IDs read
    after it, which it skips when it reads them again.

    bem IDs order by time only to the second: events created in the same second sort in random order. So
    the resume point is not the last ID read but the last ID of the second before it: every event not yet
    read lies after that ID, whether the list is sorted by ID or by creation time, and the IDs read after it
    (`already_read`) are at most those of one second. An oldest-first reader's seconds rise, a newest-first
    reader's fall.
    """

    def __init__(
        self,
        sort_order: str,
        last_id: str | None,
        starting_after: str | None,
        already_read: list[str],
        bucket: Callable[[str, int], int],
    ) -> None:
        self._sort_order = sort_order
        self._bucket = bucket  # (event ID, its position in this reader's listing) -> its second
        self.last_id = last_id
        self.starting_after = starting_after
        # (id, second) of each ID read after starting_after, in the order the API listed them
        self.tail: list[tuple[str, int]] = [(i, bucket(i, 0)) for i in already_read]
        self._observed = 0

    def observe(self, event_id: str) -> None:
        bucket = self._bucket(event_id, self._observed)
        if self.tail and past(self._sort_order, bucket, self.tail[-1][1], 0):
            # every ID read so far is from a second before this one: resume after the last of them
            self.starting_after = self.tail[-1][0]
            self.tail.clear()
        self.tail.append((event_id, bucket))
        self.last_id = event_id
        self._observed += 1

    @property
    def tail_ids(self) -> list[str]:
        return [event_id for event_id, _ in self.tail]

    def state(self, cursor_field: str) -> dict[str, Any]:
        # starting_after is written even when null: a state without it is read as "resume after eventID"
        return {cursor_field: self.last_id, "starting_after": self.starting_after, "already_read": self.tail_ids}

    def front(self) -> Front:
        """The meeting front this position resumes a two-ended read at: the IDs it read last, and their
        furthest second (none if it starts again from its end, where new events may have arrived)."""
        seconds = {event_id: ksuid_seconds(event_id) for event_id in self.tail_ids}
        known = [s for s in seconds.values() if s is not None]
        furthest = (min(known) if self._sort_order == NEWEST_FIRST else max(known)) if known else None
        if self.starting_after is None:
            furthest = None
        return Front(second=furthest, ids=seconds, already_read=frozenset(seconds))


class BemEventIdCursor(CheckpointingCursor):
    """Resumes bem's listing from a real, earlier event ID, and skips what it already emitted.

    State after a finished sync, and while an incremental sync reads:

        {"eventID": "<the newest ID read>",
         "starting_after": "<a real ID of an earlier second, or null: resume from the start>",
         "already_read": ["<every ID read after starting_after>", ...]}

    The next sync asks for `startingAfter=<starting_after>` (an ID the API returned, never a made-up one)
    and drops `already_read` (see ListingPosition).

    A sync without state reads the listing from both ends at once (source_events.two_ended). Until both
    readers have finished, its state also holds the newest-first reader's position and the top it started
    from, so that a killed first sync resumes both readers where they were:

        {..., "newest_first": {"eventID": ..., "starting_after": ..., "already_read": [...],
                               "top": {"eventID": ..., "starting_after": ..., "already_read": [...]}}}

    State is checkpointed every `checkpoint_every` records (one page) and when a reader finishes.

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
        self._oldest_first, self._newest_first, self._top = self._read_state(stream_state)
        self._meeting: Meeting | None = None
        self._open: set[str] = set()
        self._observed = 0

    @classmethod
    def create(
        cls, *, stream_name: str, cursor_field: str, settings: Any, retriever: Any, **kwargs: Any
    ) -> "BemEventIdCursor":
        # `retriever` is unused: bem's slices need no planning (FlameupWindowCursor probes through it)
        return cls(stream_name, cursor_field, checkpoint_every=settings.bem.page_size, **kwargs)

    def _position(self, sort_order: str, saved: Mapping[str, Any], legacy: bool) -> ListingPosition:
        last_id = saved.get(self.cursor_field)
        # a state with only an event ID resumes after it; before 0.3.0 this connector left out a null
        # `starting_after`, which `already_read` then tells apart (all it read was in one second)
        legacy = legacy and "already_read" not in saved
        starting_after = saved.get("starting_after", last_id if legacy else None)
        already_read = saved.get("already_read", [])
        if not isinstance(last_id, (str, type(None))) or not isinstance(starting_after, (str, type(None))):
            raise state_error(self._stream_name, f"`{self.cursor_field}` or `starting_after` is not an event ID")
        if not isinstance(already_read, list) or not all(isinstance(i, str) for i in already_read):
            raise state_error(self._stream_name, "`already_read` is not a list of event IDs")
        return ListingPosition(sort_order, last_id, starting_after, already_read, self._bucket)

    def _read_state(
        self, stream_state: Mapping[str, Any]
    ) -> tuple[ListingPosition, ListingPosition | None, Top | None]:
        if not stream_state:
            empty: Mapping[str, Any] = {}
            return (
                self._position(OLDEST_FIRST, empty, False),
                self._position(NEWEST_FIRST, empty, False),
                Top(block=self._checkpoint_every),
            )
        newest_first = stream_state.get("newest_first")
        if newest_first is None:
            if not isinstance(stream_state.get(self.cursor_field), str):
                raise state_error(self._stream_name, f"no `{self.cursor_field}` event ID")
            return self._position(OLDEST_FIRST, stream_state, True), None, None
        top = newest_first.get("top") if isinstance(newest_first, Mapping) else None
        if not isinstance(top, (Mapping, type(None))):
            raise state_error(self._stream_name, "`newest_first` is not a reader's position")
        backward = self._position(NEWEST_FIRST, newest_first, False)
        top_read = self._position(NEWEST_FIRST, top or {}, False)
        return (
            self._position(OLDEST_FIRST, stream_state, False),
            backward,
            Top(
                second=ksuid_seconds(top_read.last_id) if top_read.last_id else None,
                event_id=top_read.last_id,
                ids=top_read.tail_ids,
                below=top_read.starting_after,
                block=self._checkpoint_every,
            ),
        )

    def _bucket(self, event_id: str, position: int) -> int:
        seconds = ksuid_seconds(event_id)
        return seconds if seconds is not None else position // self._checkpoint_every

    @property
    def state(self) -> MutableMapping[str, Any]:
        if self._newest_first is None:
            return self._oldest_first.state(self.cursor_field) if self._oldest_first.last_id else {}
        top = self._meeting.top_snapshot() if self._meeting else self._top
        if not self._open and self._meeting is not None:
            return self._final_state(top)
        state = self._oldest_first.state(self.cursor_field)
        state["newest_first"] = {
            **self._newest_first.state(self.cursor_field),
            "top": {self.cursor_field: top.event_id, "starting_after": top.below, "already_read": top.ids},
        }
        return state

    def _final_state(self, top: Top) -> MutableMapping[str, Any]:
        """Both readers finished: resume after where the newest-first reader started, skipping what it read
        there (every event the sync did not read was created after that)."""
        forward = self._oldest_first
        if top.event_id is None:  # the newest-first reader read nothing
            return forward.state(self.cursor_field) if forward.last_id else {}
        if top.below is not None:
            return {self.cursor_field: top.event_id, "starting_after": top.below, "already_read": top.ids}
        # the newest-first reader never got below its first seconds: resume where the oldest-first reader
        # would, skipping what both read after that point
        read = set(forward.tail_ids)
        already_read = forward.tail_ids + [i for i in top.ids if i not in read]
        return {self.cursor_field: top.event_id, "starting_after": forward.starting_after, "already_read": already_read}

    def stream_slices(self) -> Iterable[StreamSlice]:
        if self._newest_first is None:
            yield self._slice(OLDEST_FIRST, self._oldest_first, skip_ids=self._oldest_first.tail_ids)
            return
        top = self._top
        if self._newest_first.starting_after is None:
            # the newest-first reader starts again from the top, which may have moved since
            top = Top(block=self._checkpoint_every)
        self._meeting = Meeting(self._oldest_first.front(), self._newest_first.front(), top)
        self._open = {OLDEST_FIRST, NEWEST_FIRST}
        for sort_order, position in ((OLDEST_FIRST, self._oldest_first), (NEWEST_FIRST, self._newest_first)):
            yield self._slice(sort_order, position, meeting=self._meeting)

    @staticmethod
    def _slice(
        sort_order: str, position: ListingPosition, skip_ids: list[str] | None = None, meeting: Meeting | None = None
    ) -> StreamSlice:
        cursor_slice: dict[str, Any] = {"sort_order": sort_order}
        if position.starting_after:
            cursor_slice["starting_after"] = position.starting_after
        if skip_ids:
            cursor_slice["skip_ids"] = skip_ids
        # the meeting is shared by both partitions, not part of their identity: an extra field
        return StreamSlice(
            partition={}, cursor_slice=cursor_slice, extra_fields={"meeting": meeting} if meeting else None
        )

    def observe(self, record: Record) -> None:
        event_id = record.data[self.cursor_field]
        newest_first = (record.associated_slice or {}).get("sort_order") == NEWEST_FIRST
        with self._lock:
            (self._newest_first if newest_first else self._oldest_first).observe(event_id)
            self._observed += 1
            self._progress.count()
            if self._observed % self._checkpoint_every == 0:
                self._emit_state()

    def close_partition(self, partition: Partition) -> None:
        with self._lock:
            self._open.discard(partition.to_slice().get("sort_order", OLDEST_FIRST))
            self._emit_state()
