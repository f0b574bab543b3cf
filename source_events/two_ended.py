"""bem's listing read from both ends at once, on a sync that starts without state.

bem pages one way only: each page needs the last ID of the one before (`startingAfter`), and the list has
no offset and no time filter. So one reader is one request at a time, however slow the network. A sync
without state therefore runs two readers: one oldest-first (`sortOrder=asc`) from the bottom, one
newest-first (`sortOrder=desc`) from the top, each stopping where it reaches what the other has read.

Where they meet is decided per event, under one lock, from the second in its KSUID ID (both sort orders
list events by second; inside a second the order is undocumented and may differ):
- the oldest-first reader stops at the first event of a later second than the newest-first reader has
  reached, and the newest-first reader at the first event of an earlier second than the oldest-first
  reader has reached;
- in the one second where they may overlap, each drops the IDs the other has already taken.
Every event is taken by exactly one reader: the reader that stops first has left the rest to a reader
that has already passed it or will reach it.

An ID that is not a KSUID has no second to compare: the newest-first reader then stops, and the
oldest-first reader reads to the end (repeating at most what the newest-first reader took before).
"""

import threading
from dataclasses import dataclass, field
from enum import Enum

from source_events.ksuid import ksuid_seconds

OLDEST_FIRST = "asc"
NEWEST_FIRST = "desc"


class Verdict(Enum):
    EMIT = "emit"
    SKIP = "skip"  # the other reader took it, or this one did before it resumed
    STOP = "stop"  # the other reader covers this event and all after it


@dataclass
class Front:
    """How far one reader has come: the second of the last event it took or skipped, and the IDs of that
    second it has seen (a resumed reader starts from its saved `already_read`)."""

    second: int | None = None
    ids: set[str] = field(default_factory=set)
    stopped: bool = False


@dataclass
class Top:
    """The newest second the newest-first reader saw, which the sync's final state resumes after: its IDs,
    and `below`, the first ID listed newest-first with an earlier second (a real ID to resume after)."""

    second: int | None = None
    event_id: str | None = None
    ids: list[str] = field(default_factory=list)
    below: str | None = None

    def see(self, event_id: str, second: int) -> None:
        if self.second is None:
            self.second, self.event_id = second, event_id
        if second == self.second:
            self.ids.append(event_id)
        elif self.below is None:
            self.below = event_id


class Meeting:
    """The two readers' fronts, shared by the two partitions of one bem sync."""

    def __init__(self, oldest_first: Front, newest_first: Front, top: Top) -> None:
        self._fronts = {OLDEST_FIRST: oldest_first, NEWEST_FIRST: newest_first}
        self.top = top
        self.abandoned = False  # an ID without a second was seen: the oldest-first reader reads to the end
        self._lock = threading.Lock()

    def admit(self, sort_order: str, event_id: str) -> Verdict:
        mine = self._fronts[sort_order]
        other = self._fronts[NEWEST_FIRST if sort_order == OLDEST_FIRST else OLDEST_FIRST]
        second = ksuid_seconds(event_id)
        with self._lock:
            if mine.stopped:
                return Verdict.STOP
            if second is None:
                self.abandoned = True
            if self.abandoned:
                return self._one_ended(sort_order, mine)
            if sort_order == NEWEST_FIRST:
                self.top.see(event_id, second)
            if other.second is not None and _beyond(sort_order, second, other.second):
                mine.stopped = True
                return Verdict.STOP
            if mine.second is None or _beyond(sort_order, second, mine.second):
                mine.second, mine.ids = second, set()
            taken = event_id in mine.ids or (second == other.second and event_id in other.ids)
            mine.ids.add(event_id)
            return Verdict.SKIP if taken else Verdict.EMIT

    def _one_ended(self, sort_order: str, mine: Front) -> Verdict:
        if sort_order == NEWEST_FIRST:
            mine.stopped = True
            return Verdict.STOP
        return Verdict.EMIT

    def stopped(self, sort_order: str) -> bool:
        with self._lock:
            return self._fronts[sort_order].stopped

    def top_snapshot(self) -> Top:
        with self._lock:
            return Top(self.top.second, self.top.event_id, list(self.top.ids), self.top.below)


def _beyond(sort_order: str, second: int, front: int) -> bool:
    """Whether `second` lies past `front` in the reading direction of `sort_order`."""
    return second > front if sort_order == OLDEST_FIRST else second < front
