"""Where bem's two readers meet: the oldest-first reader coming up from its position, the newest-first reader
coming down from the top of the listing. A sync reads from both ends at once, in two partitions, so that a long
read takes about half the round trips.

They meet by the IDs they read. But bem orders its listing by time only to the second, and may break the ties
of a second one way when listing oldest first and another way newest first: where the readers meet inside one
second, what each has read of it is not all of it. So each reader's IDs count for a meeting only once they are
*settled*: once it has read an event more than `zone` seconds further on (`zone` = twice how far an ID's second
may lie from the listing's order), the second of an ID is certainly behind it, whole. A reader stops at the
first settled ID of the other (everything beyond it in its direction was read by the other); an ID the other
read but has not settled yet is not emitted again, and the reader goes on past it, reading what the other may
have missed of those seconds. A reader that reached the end of the listing settles everything it read.

Checking an answer and recording its IDs happen under one lock: of two readers that fetch the same stretch at
once, the first records it and the second sees it. Each reader keeps its IDs for `2 * zone` seconds past its
frontier, and its last MEETING_PAGES pages at least.
"""

import threading
from collections import deque

from source_events.bem.ksuid import ksuid_seconds

# Pages of settled IDs each reader keeps at least, whatever their seconds.
MEETING_PAGES = 8


class _Reader:
    """What one reader read: IDs not settled yet (ID -> second), settled ones, and how far it got."""

    def __init__(self, up: bool) -> None:
        self.up = up  # reads upwards (oldest first)
        self.unsettled: dict[str, int | None] = {}
        self.settled: set[str] = set()
        self.settled_order: deque[tuple[str, int | None]] = deque()
        self.frontier: int | None = None  # the second of the last ID read
        self.left_to_other = 0  # the events it read and left to the other, which read them first (and meetings)

    def beyond(self, second: int, by: int) -> bool:
        """Whether the reader stands more than `by` seconds past `second`, in its direction."""
        if self.frontier is None:
            return False
        return self.frontier > second + by if self.up else self.frontier < second - by


class Meeting:
    OLDEST_FIRST = "oldest_first"
    NEWEST_FIRST = "newest_first"

    def __init__(self, zone_seconds: int) -> None:
        self._zone = zone_seconds
        self._lock = threading.Lock()
        self._readers = {self.OLDEST_FIRST: _Reader(up=True), self.NEWEST_FIRST: _Reader(up=False)}

    @property
    def zone(self) -> int:
        return self._zone

    def arrive(self, reader: str, ids: list[str]) -> tuple[list[str], int | None]:
        """A page `reader` read, in its reading order. Returns the IDs to emit (none the other emitted, none this
        reader emitted before), now recorded as read by it, and where in the page it met the other's settled IDs
        (None: it did not). A reader that met the other stops there: what lies beyond was read by the other."""
        mine_, other = self._readers[reader], self._readers[self._other(reader)]
        with self._lock:
            emit: list[str] = []
            met_at = None
            for index, event_id in enumerate(ids):
                if event_id in other.settled:
                    met_at = index
                    mine_.left_to_other += 1
                    break
                second = ksuid_seconds(event_id)
                self._advance(mine_, second)
                if event_id in other.unsettled:
                    mine_.left_to_other += 1
                    continue  # the other read it first: it emits it
                if event_id in mine_.unsettled or event_id in mine_.settled:
                    continue  # read already: not emitted twice
                emit.append(event_id)
                mine_.unsettled[event_id] = second
            self._settle(mine_, everything=False)
            return emit, met_at

    def left_to_other(self, reader: str) -> int:
        """How many times `reader` left events to the other so far: an event the other read first, or where it met
        the other. What it emits then counts on the other's records (source_events.bem.reading)."""
        with self._lock:
            return self._readers[reader].left_to_other

    def passed(self, reader: str, ids: list[str]) -> None:
        """`reader` read these and emits none of them (below its floor): its frontier moves past them."""
        with self._lock:
            for second in map(ksuid_seconds, ids):
                self._advance(self._readers[reader], second)
            self._settle(self._readers[reader], everything=False)

    def reached_the_end(self, reader: str) -> None:
        """`reader` read to the end of the listing in its direction (or down to its floor): its seconds are whole."""
        with self._lock:
            self._settle(self._readers[reader], everything=True)

    def has_read(self, reader: str, ids: list[str]) -> bool:
        """Whether `reader` read any of `ids` (among the IDs it still keeps)."""
        with self._lock:
            read = self._readers[reader]
            return any(event_id in read.unsettled or event_id in read.settled for event_id in ids)

    def _other(self, reader: str) -> str:
        return self.NEWEST_FIRST if reader == self.OLDEST_FIRST else self.OLDEST_FIRST

    @staticmethod
    def _advance(reader: _Reader, second: int | None) -> None:
        # where the reader stands now, not the furthest it ever read: a reader that the API answers in the other
        # direction than asked (it ignores `sortOrder`) then settles nothing
        if second is not None:
            reader.frontier = second

    def _settle(self, reader: _Reader, everything: bool) -> None:
        for event_id, second in list(reader.unsettled.items()):
            # an ID without a second (not a KSUID) orders by itself: no second to share with others
            if everything or second is None or reader.beyond(second, self._zone):
                del reader.unsettled[event_id]
                reader.settled.add(event_id)
                reader.settled_order.append((event_id, second))
        # forget settled IDs far behind the frontier, keeping the last pages' worth at least
        keep_at_least = MEETING_PAGES * 100
        while len(reader.settled_order) > keep_at_least:
            event_id, second = reader.settled_order[0]
            if second is not None and not reader.beyond(second, 2 * self._zone + self._zone):
                break
            reader.settled_order.popleft()
            reader.settled.discard(event_id)
