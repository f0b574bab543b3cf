"""bem's listing read from both ends at once, on a sync that starts without state.

bem pages one way only: each page needs the last ID of the one before (`startingAfter`), and the list has
no offset and no time filter. So one reader is one request at a time, however slow the network. A sync
without state therefore runs two readers: one oldest-first (`sortOrder=asc`) from the bottom, one
newest-first (`sortOrder=desc`) from the top, each stopping where it reaches what the other has read.

Paging by `startingAfter` presupposes one fixed order of the events, and `sortOrder=desc` lists it
backwards: each reader has read one end of it. So a reader stops at the first event the other has read:
all events past it are the other's. Each reader remembers the IDs it read near its front: those within
MARGIN_SECONDS of the furthest second in their KSUID IDs (the order is by ID, or by creation time from
which an ID's second may stray a little), else its last RECENT_IDS_KEPT. A second rule backs the first
up: a reader also stops at an event more than MARGIN_SECONDS past the other's front, which the other has
necessarily read. Decisions are made per event under one lock, so of two readers meeting on one page, one
emits and the other stops.
"""

import threading
from dataclasses import dataclass, field
from enum import Enum

from source_events.bem.ksuid import ksuid_seconds

OLDEST_FIRST = "asc"
NEWEST_FIRST = "desc"

# How far an ID's second may stray from the listing's order (IDs minted by a clock a second off either way)
MARGIN_SECONDS = 2
# IDs remembered per reader when they carry no second (not KSUIDs)
RECENT_IDS_KEPT = 10_000


class Verdict(Enum):
    EMIT = "emit"
    SKIP = "skip"  # this reader emitted it before it resumed
    STOP = "stop"  # the other reader has read this event and all past it


@dataclass
class Front:
    """How far one reader has come: the furthest second it has read (oldest first: the latest; newest
    first: the earliest), and the IDs it has read near it, with their seconds. `already_read`: IDs this
    reader emitted before it resumed (from its saved state)."""

    second: int | None = None
    ids: dict[str, int | None] = field(default_factory=dict)
    already_read: frozenset[str] = frozenset()
    stopped: bool = False

    def remember(self, sort_order: str, event_id: str, second: int | None) -> None:
        if second is not None and (self.second is None or past(sort_order, second, self.second, 0)):
            self.second = second
            self.ids = {
                i: s for i, s in self.ids.items() if s is None or not past(sort_order, second, s, MARGIN_SECONDS)
            }
        self.ids[event_id] = second
        if len(self.ids) > RECENT_IDS_KEPT:
            del self.ids[next(iter(self.ids))]

    def has_read(self, event_id: str) -> bool:
        return event_id in self.ids or event_id in self.already_read


@dataclass
class Top:
    """Where the newest-first reader started, which the sync's final state resumes after: its first event,
    `below`, the first ID it read more than MARGIN_SECONDS earlier (a real ID to resume after; for IDs
    without a second, the first after `block` IDs), and `ids`, every ID it read before that one."""

    second: int | None = None
    event_id: str | None = None
    ids: list[str] = field(default_factory=list)
    below: str | None = None
    block: int = 100

    def see(self, event_id: str, second: int | None) -> None:
        if self.event_id is None:
            self.second, self.event_id = second, event_id
        if self.below is not None:
            return
        if second is None or self.second is None:
            far = len(self.ids) >= self.block
        else:
            far = second < self.second - MARGIN_SECONDS
        if far:
            self.below = event_id
        else:
            self.ids.append(event_id)


class Meeting:
    """The two readers' fronts, shared by the two partitions of one bem sync."""

    def __init__(self, oldest_first: Front, newest_first: Front, top: Top) -> None:
        self._fronts = {OLDEST_FIRST: oldest_first, NEWEST_FIRST: newest_first}
        self.top = top
        self._lock = threading.Lock()

    def admit(self, sort_order: str, event_id: str) -> Verdict:
        mine = self._fronts[sort_order]
        other = self._fronts[NEWEST_FIRST if sort_order == OLDEST_FIRST else OLDEST_FIRST]
        second = ksuid_seconds(event_id)
        with self._lock:
            if mine.stopped:
                return Verdict.STOP
            if sort_order == NEWEST_FIRST:
                self.top.see(event_id, second)
            met = other.has_read(event_id) or (
                second is not None
                and other.second is not None
                and past(sort_order, second, other.second, MARGIN_SECONDS)
            )
            if met:
                mine.stopped = True
                return Verdict.STOP
            mine.remember(sort_order, event_id, second)
            return Verdict.SKIP if event_id in mine.already_read else Verdict.EMIT

    def stopped(self, sort_order: str) -> bool:
        with self._lock:
            return self._fronts[sort_order].stopped

    def top_snapshot(self) -> Top:
        with self._lock:
            return Top(self.top.second, self.top.event_id, list(self.top.ids), self.top.below, self.top.block)


def past(sort_order: str, second: int, front: int, margin: int) -> bool:
    """Whether `second` lies more than `margin` seconds past `front` in the reading direction of `sort_order`."""
    return second > front + margin if sort_order == OLDEST_FIRST else second < front - margin
