"""Where bem's two readers meet: the oldest-first reader coming up from its position, the newest-first reader
coming down from the top of the listing. Each sync reads from both ends at once, in two partitions, so that a
long read takes about half the round trips.

They meet by the IDs they read, never by seconds: when one reader's answer holds an event the other has read,
everything beyond that event in its direction was read by the other (each reads one contiguous run of the
listing, and a run holds everything listed within it), so it stops there. Whatever the order the API breaks
ties in within a second, and in each direction, nothing between them is missed and nothing is emitted twice:
checking an answer and recording its IDs happen under one lock, so of two readers that fetch the same stretch
at once, the first records it and the second sees it.

Each reader keeps only the IDs of its last few pages (MEETING_PAGES): the two meet where each has just read.
"""

import threading
from collections import deque

# Pages of IDs each reader keeps for the other to meet. Two readers racing over the same stretch meet within a
# page or two of it; the rest is margin for pages deleted under them.
MEETING_PAGES = 8


class Meeting:
    OLDEST_FIRST = "oldest_first"
    NEWEST_FIRST = "newest_first"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, deque[frozenset[str]]] = {
            self.OLDEST_FIRST: deque(maxlen=MEETING_PAGES),
            self.NEWEST_FIRST: deque(maxlen=MEETING_PAGES),
        }

    def arrive(self, reader: str, ids: list[str]) -> tuple[list[str], bool]:
        """A page `reader` read, in its reading order: the IDs before the first one the other reader has read (the
        whole page if none), now recorded as read by `reader`, and whether it met the other."""
        other = self.NEWEST_FIRST if reader == self.OLDEST_FIRST else self.OLDEST_FIRST
        with self._lock:
            read_by_other = set().union(*self._pages[other])
            for index, event_id in enumerate(ids):
                if event_id in read_by_other:
                    mine, met = ids[:index], True
                    break
            else:
                mine, met = ids, False
            if mine:
                self._pages[reader].append(frozenset(mine))
            return mine, met

    def has_read(self, reader: str, ids: list[str]) -> bool:
        """Whether `reader` read any of `ids` in its last pages."""
        with self._lock:
            return any(event_id in page for page in self._pages[reader] for event_id in ids)
