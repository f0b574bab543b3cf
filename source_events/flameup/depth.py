"""Whether a window's listing really ended, or Flameup stopped serving it at some depth.

An API may serve a listing no deeper than some position (search backends cap `offset + limit`: Elasticsearch at
10,000) and answer past it with an empty page, or a 400 about `limit` for a size it served higher up. Such an
answer is no evidence that the listing ended. So once a listing that went a full page deep ends, a request asks
the part of the window's time range beyond the events read, in the direction the listing went (older than the
oldest for a newest-first listing, newer than the newest for an oldest-first one; both when unclear). A full page
deep, not a full page: an API that filters pages after cutting them (hidden events) seldom returns a full one, and
may serve no deeper all the same.

That part reaches only the edge event's own second (bounds compared at a second's precision or finer, inclusive
or not, on `timestamp` or `created_at`: undocumented), so few events read lie in it. The request skips those that
certainly lie in it and do not share the edge event's time (`offset`: a tie may come back in another order), so its
answer starts at or before the first event beyond, and pages through the events read it may list. An event there
that the window has not read means the listing was cut: that part is read as a listing of its own (it holds fewer
events), again until its end is shown. An empty answer deeper than Flameup answered events in this sync may be
the depth itself: then the part past the seconds at the edge is checked instead (`Beyond.past`).

That check finds what a depth hid only if the listing is sorted by the field `since`/`until` compare. Sorted by
one field and compared on the other (`WHERE created_at BETWEEN .. ORDER BY timestamp`, undocumented either way),
the events the depth hid lie anywhere in the range, not beyond its edge (adversary review of 0.5.14: 17 and 22 of
400 lost). So where the listing did not go one way by every field Flameup may compare (`sorted_by_compared`), the
range is read again in two parts instead, each as a listing of its own, until each listing's end is shown
(source_events.flameup.retriever). A field an answer's event holds outside the range asked is not the one compared
(`not_compared`); an event whose two times lie far apart tells which is (`telling`). With neither, the check
beyond the end is trusted, as before (docs/exactness.md, Known limits).

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
from source_events.flameup.seen import SeenEvents

FIELDS = ("timestamp", "created_at")
# how far the manifest widens a window's `since` and `until`, then cuts them to the second
# (source_events/manifest.yaml, flameup_requester)
SINCE_WIDENING, UNTIL_WIDENING = timedelta(seconds=1), timedelta(seconds=2)
SECOND = timedelta(seconds=1)
# How far a part beyond reaches back into the events read: just far enough that its request asks the whole second
# of the edge event read, whichever way Flameup compares (inclusive or not, to the second or the microsecond):
# the older part ends a second before the oldest read (`until` = that second + 1 s, cut), the newer part starts
# at the newest read (`since` = that second - 1 s). Reaching no further keeps the events read it lists first
# few: past a depth Flameup serves, the check could not skip them.
OLDER_REACH, NEWER_REACH = -SECOND, timedelta(0)
# how far from the edge the times of events read are kept: further than a part beyond reaches into them
KEPT = SINCE_WIDENING + UNTIL_WIDENING + 2 * SECOND
# a part past the dense seconds at an edge keeps this far from them (bounds compared at a second's precision)
PAST_EDGE = timedelta(seconds=1)
# An event whose two times lie further apart than this tells which one `since`/`until` compare: a range around one
# of them, widened as the manifest asks it, leaves the other well outside.
TELLING_GAP = timedelta(seconds=10)
# ... and this many such events are kept a listing (one may be deleted before it is asked for)
TELLING_KEPT = 3
# times of about this many to SAMPLE * 2 events a listing are kept, spread over it (`cut`)
SAMPLE = 256
# A range read again in two parts is cut past this share of the events listed from the side the listing ended on (the
# events' other time lets a few lie beyond the rest: the very edge would cut them off from what was read)
CUT_QUANTILE = 0.1


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

    @property
    def reach(self) -> int:
        """The furthest `offset` + events answered: a cap on `offset + limit` lies no shallower."""
        with self._lock:
            return self._reach

    def ends_there(self, offset: int, limit: int) -> bool:
        """Whether an empty answer at `offset` (asking `limit`) is a listing's end, not a depth Flameup serves no
        deeper than: a cap on the offset would have emptied the deeper answer too, a cap on `offset + limit` the
        one that reached further."""
        with self._lock:
            return offset <= self._offset and offset + limit <= self._reach


@dataclass(frozen=True)
class Beyond:
    """A part of a window's time range beyond the events read, and how many of those certainly lie in it. `past`: the
    same side past the seconds the events read reach into, asked instead when this part's check cannot tell its end
    from a depth Flameup serves (those seconds may hold more events than it serves: what lies past them is read)."""

    lower: datetime
    upper: datetime
    read_in_it: int
    past: "Beyond | None" = None
    # of `read_in_it`, those not sharing the edge event's time: the part lists them first whatever the order of ties
    read_before_edge_tie: int = 0
    # the events read it may list, however Flameup compares: those past `read_in_it` are paged through, not skipped
    read_at_most: int = 0


class ReadSoFar:
    """The events one listing of a window returned, as far as its edges go: the direction it went, and the
    times (by each field) of the events it listed near its oldest and its newest ends, read before or not (a
    listing read again reaches as far as it lists, new events or not)."""

    def __init__(self, first_of_window: bool = False, asked: tuple[datetime, datetime] | None = None) -> None:
        self._last: dict[str, datetime] = {}
        # by each field, the ways one event read went from the one read before it (1 later, -1 earlier): one way is
        # the listing's direction; both ways (events arrived at the top or in between while it was read), unclear
        self._steps: dict[str, set[int]] = {field: set() for field in FIELDS}
        self._near_oldest: dict[str, list[datetime]] = {field: [] for field in FIELDS}
        self._near_newest: dict[str, list[datetime]] = {field: [] for field in FIELDS}
        self.page_deep = False  # the listing reached a full page deep: its end may be a depth Flameup serves
        self.count = 0  # events read that no listing of the window returned before
        # the IDs this listing returned: an event it lists again is counted once (a digest table: a set of the IDs
        # held ~130 bytes an event, 20 MB for a window of 150,000, and took the default sync past 100 MB). A window's
        # first listing keeps none: what it listed before is what its window read (`new` false)
        self._listed = None if first_of_window else SeenEvents()
        self.refused = False  # the listing ended on a refusal to serve it deeper
        self.ended_at: tuple[int, int] | None = None  # the empty answer that ended it: (offset, limit asked)
        #: the fields an event listed held outside the range asked, however Flameup compares: not the one compared
        self.not_compared: set[str] = set()
        # the range asked, widened as the manifest asks it and by a second more: a time outside is outside however
        # Flameup compares (inclusive or not, to the second or finer)
        since, until = _as_asked(*asked) if asked is not None else (None, None)
        self._asked = None if since is None else (since - SECOND, until + SECOND)
        #: events listed whose two times lie more than TELLING_GAP apart (the first TELLING_KEPT): id and times
        self.telling: list[tuple[str, dict[str, datetime]]] = []
        # every `_stride`-th event's times, by field: where a range read again in two parts is cut (`cut`)
        self._sample: dict[str, list[datetime]] = {field: [] for field in FIELDS}
        self._stride, self._sampled = 1, 0

    def _listed_before(self, key: str, new: bool) -> bool:
        """Whether this listing returned the event `key` before (and it is noted now)."""
        if self._listed is None:  # a window's first listing: what it returned before, the window read
            return not new
        return self._listed.add([key])[0]

    def listed(self, event: Mapping[str, Any], new: bool) -> None:
        self.count += new
        key = event.get("id")
        if isinstance(key, str) and self._listed_before(key, new):
            return
        times = {field: time_of(event.get(field)) for field in FIELDS}
        times = {field: value for field, value in times.items() if value is not None}
        if not times:
            return
        self._note_fields(key, times)
        for field, value in times.items():
            before = self._last.get(field)
            if before is not None and value != before:
                self._steps[field].add(1 if value > before else -1)
        self._last = times
        for field, value in times.items():
            _keep(self._near_oldest[field], value, lambda t, edge: t <= edge + KEPT, min)
            _keep(self._near_newest[field], value, lambda t, edge: t >= edge - KEPT, max)

    def _note_fields(self, key: Any, times: dict[str, datetime]) -> None:
        if self._asked is not None:
            lowest, highest = self._asked
            self.not_compared.update(field for field, value in times.items() if not lowest <= value <= highest)
        wanted = len(self.telling) < TELLING_KEPT and isinstance(key, str) and len(times) == len(FIELDS)
        if wanted and abs(times[FIELDS[0]] - times[FIELDS[1]]) > TELLING_GAP:  # checked until enough are kept
            self.telling.append((key, times))
        self._sampled += 1
        if self._sampled % self._stride == 0:
            for field, value in times.items():
                self._sample[field].append(value)
            if len(self._sample[FIELDS[0]]) >= 2 * SAMPLE:  # every other one dropped: the sample stays spread
                self._sample = {field: values[::2] for field, values in self._sample.items()}
                self._stride *= 2

    def cut(self, not_compared: set[str]) -> datetime | None:
        """Where to cut the range in two to read it again (by the field `since`/`until` compare; either, without
        evidence): past most of the events listed, on the side the listing went, so that one part holds about what
        was read (and is shown ended) and the other what the depth hid (`CUT_QUANTILE`); the median when the
        listing's direction is unclear."""
        fields = [f for f in FIELDS if f not in not_compared] or list(FIELDS)
        times = sorted(self._sample[fields[0]])
        if not times:
            return None
        went = self._went()
        quantile = CUT_QUANTILE if went == {-1} else 1 - CUT_QUANTILE if went == {1} else 0.5
        return times[round(quantile * (len(times) - 1))]

    def sorted_by_compared(self, not_compared: set[str]) -> bool:
        """Whether the listing went one way (or none) by the field `since`/`until` compare, as far as the sync shows:
        then what a depth hid lies beyond its edge in the range (`beyond`). Without evidence of which field that is
        (`not_compared` names neither, or both), it is taken to be so (docs/exactness.md, Known limits)."""
        compared = [f for f in FIELDS if f not in not_compared and self._near_oldest[f]]
        return len(compared) != 1 or len(self._steps[compared[0]]) <= 1

    def beyond(self, start: datetime, end: datetime) -> list[Beyond]:
        """The parts of [start, end) that lie beyond the events read, in the directions the listing went, each with
        the part past the seconds at its edge (`Beyond.past`). A part's edge is the furthest either field reaches
        (0.5.7's); the part past the edge's seconds follows the field the listing is sorted by (`_sorted_by`): an
        offline client's other field lies far from it (received late, or sent with an old time), and a bound taken
        from it skipped what lay between (found by the adversary review of 0.5.8)."""
        if not self.page_deep or not any(self._near_oldest.values()):
            return []
        went = self._went()
        parts = []
        if went != {1}:  # newest first, or unclear: the older part
            fields = self._sorted_by(-1)
            edge = max(min(times) for times in self._near_oldest.values() if times)
            if edge + SECOND > start:  # else what was read reaches a second past the range's start
                upper = min(max(edge + OLDER_REACH, start), end)
                parts.append(self._part(start, upper, self._near_oldest, min, self._past_older(start, fields)))
        if went != {-1}:  # oldest first, or unclear: the newer part
            fields = self._sorted_by(1)
            newer_than = min(max(times) for times in self._near_newest.values() if times) - NEWER_REACH
            if newer_than < end:
                past = self._past_newer(end, fields)
                parts.append(self._part(max(newer_than, start), end, self._near_newest, max, past))
        return parts

    def _sorted_by(self, direction: int) -> list[str]:
        """The fields the listing went `direction` by, every step (the field it is sorted by); else every field read."""
        one_way = [f for f, steps in self._steps.items() if steps == {direction} and self._near_oldest[f]]
        return one_way or [f for f in FIELDS if self._near_oldest[f]]

    # Past the seconds the events read reach into, by the fields `fields` (bounds widened, at a second's precision):
    # no event of those seconds is in the part, nor any event read (`read_in_it` 0).
    def _past_older(self, start: datetime, fields: list[str]) -> Beyond | None:
        oldest = min(min(self._near_oldest[f]) for f in fields)
        upper = _to_second(oldest) - UNTIL_WIDENING - PAST_EDGE
        return Beyond(start, upper, 0) if upper > start else None

    def _past_newer(self, end: datetime, fields: list[str]) -> Beyond | None:
        newest = max(max(self._near_newest[f]) for f in fields)
        lower = _to_second(newest) + SINCE_WIDENING + PAST_EDGE
        return Beyond(lower, end, 0) if lower < end else None

    def _went(self) -> set[int]:
        """The listing's direction by each field that went one way: 1 oldest first, -1 newest first (0: none did, and
        both parts beyond are checked). Taken from every step between events read one after the other, not from the
        first and the last read: events arriving at the top of a newest-first listing while it was read are read
        last, and newer than the first (0.5.6 then checked only the newer part, and lost the listing past a depth
        Flameup serves)."""
        # the field the listing is sorted by goes one way; the other may not (an offline client's `created_at`)
        return {next(iter(steps)) for steps in self._steps.values() if len(steps) == 1} or {0}

    @staticmethod
    def _part(
        lower: datetime, upper: datetime, near: dict[str, list[datetime]], edge_of, past: Beyond | None
    ) -> Beyond:
        # inside the range asked however Flameup compares (past `since`'s second, before `until`, both widened and cut
        # to the second as the manifest asks them), by whichever field counts fewer
        asked_since, until = _as_asked(lower, upper)
        since = asked_since + SECOND
        fields = [times for times in near.values() if times]
        inside = [[t for t in times if since <= t < until] for times in fields]
        before_tie = [sum(t != edge_of(times) for t in listed) for times, listed in zip(fields, inside, strict=True)]
        at_most = [sum(since - SECOND <= t < until + SECOND for t in times) for times in fields]
        return Beyond(
            lower, upper, min(map(len, inside), default=0), past, min(before_tie, default=0), max(at_most, default=0)
        )


def _as_asked(lower: datetime, upper: datetime) -> tuple[datetime, datetime]:
    """The `since` and `until` the manifest sends for the range [lower, upper): widened, cut to the second."""
    return _to_second(lower - SINCE_WIDENING), _to_second(upper + UNTIL_WIDENING)


def _to_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _keep(times: list[datetime], value: datetime, near, edge_of) -> None:
    times.append(value)
    if len(times) > 64 and len(times) & (len(times) - 1) == 0:  # now and then: drop those far from the edge
        edge = edge_of(times)
        times[:] = [t for t in times if near(t, edge)]
