"""Flameup's time windows: each holds at most about MAX_PAGES_PER_WINDOW pages (and MAX_EVENTS_PER_WINDOW events),
by evidence from the data.

A window is what the stream checkpoints: state moves to a window's end once it and every window before it
were read completely. Windows of a fixed span cost one request each even when empty (ten sparse years of
daily windows: 3,650 requests at 120 a minute), and a span too wide for dense data never checkpoints. So the
range is cut where the events are:

    a range is one window when it holds at most window_events(page size) events; otherwise it is cut
    into parts and each part is planned the same way, oldest first.

"Holds more than n events" is asked of the data, not of `total`: one request for `limit=1` at `offset=n`
of the range, which returns an event only if there is an (n+1)-th. That needs neither `total` (whose meaning
Flameup does not document) nor any sort order of the listing.

`total` only decides how many parts a range is cut into, as a hint (TotalHint): while every answer's `total`
agrees with the data, a range is cut into parts of about TARGET_SHARE of a window each, so a steady history
costs about one probe per window. Once a `total` contradicts the data (more than n events where
a probe found none past n, or n or fewer where it found more: estimated, capped, counting the workspace), it
is ignored for the rest of the sync and ranges are cut in halves: about two probes per window, which then
holds between half and all of the most a window holds. Either way sparse years cost a probe per cut, not
a request per empty week.

A range shorter than 2 * MIN_SPAN is not cut: a burst of events sharing a second cannot be split, and
stays one window, however many pages it holds.

Nothing here decides what is read: the windows always tile [lower, upper) and each is read completely. Each
window asks Flameup for a range one or two seconds wider on both sides, in whole seconds (`flameup_requester`),
because Flameup does not say whether `since`/`until` are inclusive, at what precision they compare, nor which
field they compare (`timestamp`, or the ingestion time `created_at`, as analytics exports often do). Every
event an answer holds is emitted, wherever its `timestamp` lies; neighbouring windows can both list the events
around their boundary, and BoundaryClaims emits each of those once.
"""

import math
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.sources.types import StreamSlice

from source_events.common.timestamps import format_timestamp, parse_timestamp

# At most this many pages per window (unless one burst holds more): a checkpoint every 100-200 pages (at most
# ~100 s at Flameup's 120 requests a minute), and each window's fixed cost (the planner's check, its closing
# empty page, the check of what lies beyond its end: about 3.5 requests) spread over about 180 pages: 2 %.
MAX_PAGES_PER_WINDOW = 200
# ... and at most this many events: what a window keeps of the events it read grows with them
# (source_events.flameup.seen), and the largest pages (1,000) would otherwise hold 200,000.
MAX_EVENTS_PER_WINDOW = 150_000


def window_events(page_size: int) -> int:
    """The most events a window is planned to hold, at pages of `page_size`."""
    return min(MAX_PAGES_PER_WINDOW * page_size, MAX_EVENTS_PER_WINDOW)


# Ranges shorter than twice this are not cut: a burst in one second cannot be split, and a cut costs the
# events of the ~3 s around it twice (a tenth of a window as short as this, even at 50 events a second).
MIN_SPAN = timedelta(seconds=15)
# With a `total` that agrees with the data, windows are sized for this share of MAX_PAGES_PER_WINDOW: the
# density's noise then rarely makes a candidate too full (which costs a second probe).
TARGET_SHARE = 0.9
# A range is cut into at most this many parts at once: a `total` that overstates (it counts the workspace)
# wastes at most this many probes before the data contradicts it.
MAX_PARTS = 16


@dataclass(frozen=True)
class ProbeAnswer:
    holds_more: bool  # from the data: an event came back at offset n
    total: int | None  # the answer's `total`: a hint for sizing, never a reason to accept or cut a window


# (lower, upper, n) -> whether [lower, upper) holds more than n events, and the `total` it was told;
# source_events.flameup.probes asks the API through the stream's own requester
HoldsMoreThan = Callable[[datetime, datetime, int], ProbeAnswer]


class TotalHint:
    """`total`, for sizing windows, for as long as the data agrees with it."""

    def __init__(self) -> None:
        self.trusted = True

    def of(self, answer: ProbeAnswer, n: int) -> int | None:
        """The answer's `total` if it is still trusted and agrees with the data about n, else None."""
        if not self.trusted or answer.total is None:
            return None
        if answer.total < 0 or answer.holds_more != (answer.total > n):
            self.trusted = False  # it said more events than there are, or fewer: halve and double from now on
            return None
        return answer.total


class WindowPlanner:
    def __init__(self, holds_more_than: HoldsMoreThan, page_size: Callable[[], int]) -> None:
        self._holds_more_than = holds_more_than
        self._page_size = page_size  # read at each probe: the API's cap, once paging has shown it

    def windows(self, lower: datetime, upper: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Half-open windows that tile [lower, upper), in time order, planned as they are needed."""
        hint = TotalHint()
        pending = [(lower, upper)]  # a stack: the oldest range on top
        while pending:
            start, end = pending.pop()
            if end - start < 2 * MIN_SPAN:
                yield start, end
                continue
            limit = window_events(self._page_size())
            answer = self._holds_more_than(start, end, limit)
            total = hint.of(answer, limit)  # checked against the data either way: an overstating one shows here
            if not answer.holds_more:
                yield start, end
                continue
            # a trusted `total` cuts the range into parts of about TARGET_SHARE of a window each (at most
            # MAX_PARTS: each part is checked again); without one, into halves
            parts = min(math.ceil(total / (TARGET_SHARE * limit)), MAX_PARTS) if total else 2
            pending += reversed(_cuts(start, end, parts))


def _cuts(start: datetime, end: datetime, parts: int) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into `parts` ranges of about equal span, at whole seconds, none shorter than MIN_SPAN
    (fewer parts where the range is too short for them); cut at least once."""
    bounds = [start]
    for i in range(1, parts):
        moment = _whole_second(start + (end - start) * i / parts)
        if moment - bounds[-1] >= MIN_SPAN and end - moment >= MIN_SPAN:
            bounds.append(moment)
    if len(bounds) == 1:  # too short for MIN_SPAN on both sides: its middle second
        bounds.append(_whole_second(start + (end - start) / 2))
    return list(zip(bounds, [*bounds[1:], end], strict=True))


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def window_slice(start: datetime, end: datetime) -> StreamSlice:
    return StreamSlice(
        partition={}, cursor_slice={"start_time": format_timestamp(start), "end_time": format_timestamp(end)}
    )


class BoundaryClaims:
    """Emits once each event that neighbouring windows can both list.

    A window asks for its range widened by up to two seconds on each side, so the events within two seconds of
    a boundary (by `timestamp` or by `created_at`: whichever Flameup compares) can come back in the windows on
    both sides of it. The first window to hand such an event on claims it at that boundary; the other skips it.
    Every other event is handed on as it comes: an event the API returned for a window is never dropped because
    of where its timestamp lies. Shared by the sync's windows, which read concurrently.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claimed: dict[datetime, set[str]] = {}

    def of_window(self, start: str, end: str) -> "WindowClaims":
        return WindowClaims(self, parse_timestamp(start), parse_timestamp(end))

    def claim(self, event_id: str, boundaries: list[datetime]) -> bool:
        with self._lock:
            if any(event_id in self._claimed.get(boundary, ()) for boundary in boundaries):
                return False
            for boundary in boundaries:
                self._claimed.setdefault(boundary, set()).add(event_id)
            return True


class WindowClaims:
    """One window's side of BoundaryClaims."""

    def __init__(self, claims: BoundaryClaims, start: datetime, end: datetime) -> None:
        self._claims = claims
        self._boundaries = (start, end)
        # the seconds around each boundary, as a UTC timestamp's text starts: most events are told apart from
        # them without parsing (the same text format compares as it sorts)
        self._near = [
            {_whole_second(boundary + timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M:%S") for offset in _AROUND}
            for boundary in self._boundaries
        ]

    def first_to_claim(self, event: Mapping[str, Any]) -> bool:
        """Whether to hand `event` on: it lies near neither boundary, or this window claimed it first there."""
        event_id = event.get("id")
        if not isinstance(event_id, str):
            return True
        near = [b for b, seconds in zip(self._boundaries, self._near, strict=True) if self._is_near(event, b, seconds)]
        return not near or self._claims.claim(event_id, near)

    @staticmethod
    def _is_near(event: Mapping[str, Any], boundary: datetime, seconds: set[str]) -> bool:
        for field in ("timestamp", "created_at"):
            value = event.get(field)
            if isinstance(value, str) and _UTC_SECOND.fullmatch(value):
                if value[:19] in seconds:
                    return True
                continue
            try:
                if abs(parse_timestamp(value) - boundary) <= NEAR_BOUNDARY:
                    return True
            except (TypeError, ValueError):
                continue  # an unreadable time is near nothing: the event is handed on
        return False


# Events this close to a window's boundary (by either field) may come back in both windows around it.
NEAR_BOUNDARY = timedelta(seconds=3)
_AROUND = range(-int(NEAR_BOUNDARY.total_seconds()) - 1, int(NEAR_BOUNDARY.total_seconds()) + 2)
# a UTC date-time's whole second, `2026-11-26T09:00:00`, followed by a fraction or Z
_UTC_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
