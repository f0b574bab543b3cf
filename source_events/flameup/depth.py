"""Whether a window's listing really ended, or Flameup stopped serving it at some depth.

An API may serve a listing no deeper than some position (search backends cap `offset + limit`: Elasticsearch at
10,000) and answer past it with an empty page, or a 400 about `limit` for a size it served higher up. Such an
answer is no evidence that the listing ended. So once a listing that went a full page deep ends, a request asks
the part of the window's time range beyond the events read, in the direction the listing went (older than the
oldest for a newest-first listing, newer than the newest for an oldest-first one; both when unclear). A full page
deep, not a full page: an API that filters pages after cutting them (hidden events) seldom returns a full one, and
may serve no deeper all the same.

That part also holds the events read at its edge (bounds compared at a second's precision, inclusive or not,
on `timestamp` or `created_at`: undocumented), often many (a burst of events in a second). The request skips
as many of them as certainly lie in it (`offset`), so its answer starts at or before the first event beyond.
An event there that the window has not read means the listing was cut: that part is read as a listing of its
own (it holds fewer events), again until its end is shown. A full page of events read is asked on.

That check is spared where the sync already has the evidence: an answer with events at a position at least as
deep as the empty page, and reaching at least as far as that page asked (`ServedDepth`). A depth cap is taken to
be the API's, the same for every listing, on `offset` or on `offset + limit` (`FlameupBehaviour.beyond_max_offset`
models both): neither could have emptied that page.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_events.common.timestamps import time_of

FIELDS = ("timestamp", "created_at")
# the part beyond reaches a second into the events read (bounds compared at a second's precision)
MARGIN = timedelta(seconds=1)
# how far the manifest widens a window's `since` and `until` (source_events/manifest.yaml, flameup_requester)
SINCE_WIDENING, UNTIL_WIDENING = timedelta(seconds=1), timedelta(seconds=2)
# how far from the edge the times of events read are kept: as far as a part beyond reaches into them
KEPT = MARGIN + SINCE_WIDENING + UNTIL_WIDENING + timedelta(seconds=1)
# a part past the dense seconds at an edge keeps this far from them (bounds compared at a second's precision)
PAST_EDGE = timedelta(seconds=1)


class ServedDepth:
    """How deep Flameup served this sync's requests (every listing, probe and check): answers with events at an
    `offset`, reaching `offset + events`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = -1  # the deepest offset answered with events
        self._reach = 0  # the furthest offset + events answered

    def served(self, offset: int, events: int) -> None:
        if events:
            with self._lock:
                self._offset, self._reach = max(self._offset, offset), max(self._reach, offset + events)

    def ends_there(self, offset: int, limit: int) -> bool:
        """Whether an empty answer at `offset` (asking `limit`) is a listing's end, not a depth Flameup serves no
        deeper than: a cap on the offset would have emptied the deeper answer too, a cap on `offset + limit` the
        one that reached further."""
        with self._lock:
            return offset <= self._offset and offset + limit <= self._reach


@dataclass(frozen=True)
class Beyond:
    """A part of a window's time range beyond the events read, and how many of those certainly lie in it."""

    lower: datetime
    upper: datetime
    read_in_it: int


class ReadSoFar:
    """The events one listing of a window returned, as far as its edges go: the direction it went, and the
    times (by each field) of the events read near its oldest and its newest ends."""

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}
        # by each field, the ways one event read went from the one read before it (1 later, -1 earlier): one way is
        # the listing's direction; both ways (events arrived at the top or in between while it was read), unclear
        self._steps: dict[str, set[int]] = {field: set() for field in FIELDS}
        self._near_oldest: dict[str, list[datetime]] = {field: [] for field in FIELDS}
        self._near_newest: dict[str, list[datetime]] = {field: [] for field in FIELDS}
        self.page_deep = False  # the listing reached a full page deep: its end may be a depth Flameup serves
        self.count = 0  # events read
        self.refused = False  # the listing ended on a refusal to serve it deeper
        self.ended_at: tuple[int, int] | None = None  # the empty answer that ended it: (offset, limit asked)

    def read(self, event: Mapping[str, Any]) -> None:
        self.count += 1
        times = {field: time_of(event.get(field)) for field in FIELDS}
        times = {field: value for field, value in times.items() if value is not None}
        if not times:
            return
        for field, value in times.items():
            before = self._last.get(field)
            if before is not None and value != before:
                self._steps[field].add(1 if value > before else -1)
        self._last = times
        for field, value in times.items():
            _keep(self._near_oldest[field], value, lambda t, edge: t <= edge + KEPT, min)
            _keep(self._near_newest[field], value, lambda t, edge: t >= edge - KEPT, max)

    def beyond(self, start: datetime, end: datetime) -> list[Beyond]:
        """The parts of [start, end) that lie beyond the events read, in the directions the listing went. When one
        is (about) the whole range again, the listing reached no further than the seconds at its edge, denser than
        Flameup serves: what lies past them is asked on its own too (it would otherwise be reached only through
        them, never deeper, and never read)."""
        parts = self._beyond_edges(start, end)
        if any(part.upper - part.lower > end - start - KEPT for part in parts):
            parts += self._past_edges(start, end)
        return parts

    def _beyond_edges(self, start: datetime, end: datetime) -> list[Beyond]:
        oldest = {f: min(times) for f, times in self._near_oldest.items() if times}
        newest = {f: max(times) for f, times in self._near_newest.items() if times}
        if not self.page_deep or not oldest:
            return []
        went = self._went()
        parts = []
        if went != {1}:  # newest first, or unclear: the older part
            older_than = max(oldest.values()) + MARGIN
            if older_than > start:
                parts.append(self._part(start, min(older_than, end), self._near_oldest))
        if went != {-1}:  # oldest first, or unclear: the newer part
            newer_than = min(newest.values()) - MARGIN
            if newer_than < end:
                parts.append(self._part(max(newer_than, start), end, self._near_newest))
        return parts

    def _past_edges(self, start: datetime, end: datetime) -> list[Beyond]:
        """The parts of [start, end) past the seconds the events read reach into, in the directions the listing
        went. Those seconds' unread events cannot be reached, but what lies past them can:
        each part is asked so that no event of those seconds is in it, by either field (bounds widened, at a
        second's precision), and certainly holds none of the events read (`read_in_it` 0)."""
        if not self.page_deep or not self._last:
            return []
        went, parts = self._went(), []
        if went != {1}:
            oldest = min(min(times) for times in self._near_oldest.values() if times)
            upper = oldest.replace(microsecond=0) - UNTIL_WIDENING - PAST_EDGE
            if upper > start:
                parts.append(Beyond(start, upper, 0))
        if went != {-1}:
            newest = max(max(times) for times in self._near_newest.values() if times)
            lower = newest.replace(microsecond=0) + SINCE_WIDENING + PAST_EDGE
            if lower < end:
                parts.append(Beyond(lower, end, 0))
        return parts

    def _went(self) -> set[int]:
        """The listing's direction by each field that went one way: 1 oldest first, -1 newest first (0: none did, and
        both parts beyond are checked). Taken from every step between events read one after the other, not from the
        first and the last read: events arriving at the top of a newest-first listing while it was read are read
        last, and newer than the first (0.5.6 then checked only the newer part, and lost the listing past a depth
        Flameup serves)."""
        # the field the listing is sorted by goes one way; the other may not (an offline client's `created_at`)
        return {next(iter(steps)) for steps in self._steps.values() if len(steps) == 1} or {0}

    @staticmethod
    def _part(lower: datetime, upper: datetime, near: dict[str, list[datetime]]) -> Beyond:
        # strictly inside the range asked (the API may exclude its bounds), by whichever field counts fewer
        since, until = lower - SINCE_WIDENING, upper + UNTIL_WIDENING
        counts = [sum(since < t < until for t in times) for times in near.values() if times]
        return Beyond(lower, upper, min(counts, default=0))


def _keep(times: list[datetime], value: datetime, near, edge_of) -> None:
    times.append(value)
    if len(times) > 64 and len(times) & (len(times) - 1) == 0:  # now and then: drop those far from the edge
        edge = edge_of(times)
        times[:] = [t for t in times if near(t, edge)]
