"""Flameup's time windows, sized from the API's `total` instead of the calendar.

Windows of a fixed span cost one request each even when empty (ten sparse years of daily windows: 3,650
requests at 120 a minute), and a fixed span that is too wide for dense data never checkpoints. Flameup pages
by offset and answers each page with `total`, so one cheap request (`limit=1`) at offset `k` of the range
returns the `k`-th event of its listing: its timestamp is a quantile of the range. The planner asks

    1. offset 0 of [lower, upper): `total` (and the first listed event)
    2. offset `total / n`, `2 * total / n`, ...: the timestamps that cut the range into `n` windows of about
       EVENTS_PER_WINDOW events each (n = total / EVENTS_PER_WINDOW, none when the range is small)

and yields the windows in time order as their ends become known. These requests are the only overhead:
a window costs `ceil(its events / page size)` requests, so a full sync costs at most
`pages + 2 * windows` = pages * (1 + 2 / PAGES_PER_WINDOW) + 2 requests, whatever the history's shape.

Nothing here decides what is read: the windows always tile [lower, upper) and each is read completely
(FlameupSliceWindowFilter keeps each event in exactly one). So an API whose listing is not ordered by
`timestamp`, whose `total` counts something else, or that sends no `total`, only makes the windows uneven
or the plan a single window; it never loses an event.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

PAGES_PER_WINDOW = 25
# Neighbouring windows both read the few seconds around their boundary (see `flameup_requester`); a window
# at least this long keeps that re-read negligible, and so does checkpointing no more often than this.
MIN_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Probe:
    """What one `limit=1` request at an offset of a range answered."""

    total: int | None  # None when the API sent no integer `total`
    timestamp: datetime | None  # of the event at that offset; None when the page was empty


# (lower, upper, offset) -> Probe; SourceEvents builds it on the stream's own requester
ProbeRange = Callable[[datetime, datetime, int], Probe]


class WindowPlanner:
    def __init__(self, probe: ProbeRange, page_size: int) -> None:
        self._probe = probe
        self._events_per_window = PAGES_PER_WINDOW * page_size

    def windows(self, lower: datetime, upper: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Half-open windows that tile [lower, upper), in time order."""
        first = self._probe(lower, upper, 0)
        total = first.total
        count = -(-total // self._events_per_window) if total else 0
        if count < 2 or first.timestamp is None:
            yield lower, upper
            return
        step = total / count
        # The second probe says which end the listing starts from (newest-first is common, undocumented).
        second = self._probe(lower, upper, round(step))
        if second.timestamp is None:  # `total` counts more than this range holds: no quantiles to be had
            yield lower, upper
            return
        oldest_first = second.timestamp >= first.timestamp
        # cut q (in time order) is the event at offset q*step oldest-first, (count-q)*step newest-first
        known = {round(step): second.timestamp}
        start = lower
        for quantile in range(1, count):
            offset = round((quantile if oldest_first else count - quantile) * step)
            cut = known.pop(offset, None) or self._probe(lower, upper, offset).timestamp
            if cut is None:
                break  # the listing ended early (`total` counts more than this range holds)
            end = cut.replace(microsecond=0)
            if end - start >= MIN_WINDOW and upper - end >= MIN_WINDOW:
                yield start, end
                start = end
        yield start, upper
