"""Where a reader of bem's listing stands: the real ID to resume after and the IDs read since, and, for a
newest-first reader, where it started.

bem IDs order by time only to the second: events created in the same second sort in random order, and one
created later in a second already read may sort before the last ID read. So a reader never resumes after
the last ID it read, but after the last ID of the second before it, and skips the IDs it read after that
one (`already_read`: the events of one second). This holds whether the listing is sorted by ID or by
creation time. IDs that carry no second (not KSUIDs) count in blocks of a page instead.
"""

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.state import MARGIN_SECONDS, Position, Top

OLDEST_FIRST = "asc"
NEWEST_FIRST = "desc"


class ListingPosition:
    """One reader's position, moved by every event it reads (in the listing's order, skipped ones included)."""

    def __init__(self, sort_order: str, start: Position, block: int) -> None:
        self._sort_order = sort_order
        self._block = block  # IDs per block when an ID carries no second
        self.starting_after = start.starting_after
        self.last_id: str | None = None
        self._read = 0
        # (id, second or block) of each ID read after starting_after, in the order they were listed
        self._tail: list[tuple[str, int]] = [(i, self._bucket(i)) for i in start.already_read]
        self._in_tail = set(start.already_read)
        self._furthest_second: int | None = None
        for event_id in start.already_read:
            self._reach(ksuid_seconds(event_id))

    def _bucket(self, event_id: str) -> int:
        second = ksuid_seconds(event_id)
        return second if second is not None else self._read // self._block

    def read(self, event_id: str) -> None:
        self.last_id = event_id
        if event_id in self._in_tail:
            return
        bucket = self._bucket(event_id)
        self._reach(ksuid_seconds(event_id))
        self._read += 1
        if self._tail and self._further(bucket, self._tail[-1][1]):
            # every ID read so far is from a second before this one: resume after the last of them
            self.starting_after = self._tail[-1][0]
            self._tail.clear()
            self._in_tail.clear()
        self._tail.append((event_id, bucket))
        self._in_tail.add(event_id)

    def _further(self, bucket: int, than: int) -> bool:
        return bucket > than if self._sort_order == OLDEST_FIRST else bucket < than

    @property
    def position(self) -> Position:
        return Position(starting_after=self.starting_after, already_read=tuple(i for i, _ in self._tail))

    def _reach(self, second: int | None) -> None:
        if second is not None and (self._furthest_second is None or self._further(second, self._furthest_second)):
            self._furthest_second = second

    @property
    def furthest_second(self) -> int | None:
        """The furthest KSUID second read, in the reading direction."""
        return self._furthest_second


class TopOfListing:
    """Where a newest-first reader started, for the state the next sync resumes from: its first event, and
    `below`, the first real ID more than MARGIN_SECONDS under it (or under the reader's floor), with every ID
    read before that one (`above`). Resuming oldest first after `below` and skipping `above` then reads
    every event created since, even in the seconds the reader started in."""

    def __init__(self, top: Top, block: int) -> None:
        self._block = block
        self.event_id = top.eventID
        self.below = top.below
        self._above = list(top.above)
        self._second = ksuid_seconds(top.eventID) if top.eventID else None

    def read(self, event_id: str, under_floor: bool = False) -> None:
        if self.event_id is None:
            self.event_id, self._second = event_id, ksuid_seconds(event_id)
        if self.below is not None:
            return
        second = ksuid_seconds(event_id)
        if second is None or self._second is None:
            far = len(self._above) >= self._block
        else:
            far = second < self._second - MARGIN_SECONDS
        if far or under_floor:
            self.below = event_id
        else:
            self._above.append(event_id)

    @property
    def top(self) -> Top:
        return Top(eventID=self.event_id, below=self.below, above=tuple(self._above))
