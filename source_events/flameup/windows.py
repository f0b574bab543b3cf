"""Flameup's time windows, sized from the API's `total` instead of the calendar.

Windows of a fixed span cost one request each even when empty (ten sparse years of daily windows: 3,650
requests at 120 a minute), and a fixed span that is too wide for dense data never checkpoints. Flameup pages
by offset and answers each page with `total`, so a page at offset `k` of the range holds the events from
the `k`-th of its listing on: their timestamps are quantiles of the range. The planner asks

    1. offset 0 of [lower, upper), `limit=1`: `total` (and the first listed event)
    2. offsets `total / n`, `2 * total / n`, ..., one page each: where to cut the range into `n` windows of
       about PAGES_PER_WINDOW pages each (n = total / (PAGES_PER_WINDOW * page size); none when it is small)

and yields the windows in time order as their ends become known. These requests are the only overhead:
a window costs `ceil(its events / page size)` requests, so a full sync costs at most
`pages + 2 * windows` = pages * (1 + 2 / PAGES_PER_WINDOW) + 2 requests, whatever the history's shape.

Neighbouring windows both read the seconds around their boundary (each asks 1-2 s wider, see
`flameup_requester`), so a cut inside a burst would read the burst twice: a cut goes into a gap of at least
CUT_GAP between two events of the probed page, and a page without such a gap (a burst) gives no cut.

Nothing here decides what is read: the windows always tile [lower, upper) and each is read completely
(FlameupSliceWindowFilter keeps each event in exactly one). So an API whose listing is not ordered by
`timestamp`, whose `total` counts something else, or that sends no `total`, only makes the windows uneven
or the plan a single window; it never loses an event.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.common.timestamps import parse_timestamp

PAGES_PER_WINDOW = 25
# A window shorter than this would checkpoint more often than is useful.
MIN_WINDOW = timedelta(minutes=10)
# Windows ask for [since - 1 s, until + 2 s) in whole seconds; under every rounding reading the seconds a
# cut's two windows both read lie within 5 s of the event before the cut.
CUT_GAP = timedelta(seconds=5)


@dataclass(frozen=True)
class Probe:
    """What one probe (a request for `limit` events at an offset of a range) answered."""

    total: int | None  # None when the API sent no integer `total`
    timestamps: list[datetime]  # of the events from that offset on, in listing order

    @property
    def first(self) -> datetime | None:
        return self.timestamps[0] if self.timestamps else None


# (lower, upper, offset, limit) -> Probe; source_events.flameup.cursor builds it on the stream's own requester
ProbeRange = Callable[[datetime, datetime, int, int], Probe]


class WindowPlanner:
    def __init__(self, probe: ProbeRange, page_size: int) -> None:
        self._probe = probe
        self._page_size = page_size
        self._events_per_window = PAGES_PER_WINDOW * page_size

    def windows(self, lower: datetime, upper: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Half-open windows that tile [lower, upper), in time order."""
        first = self._probe(lower, upper, 0, 1)
        total = first.total
        count = -(-total // self._events_per_window) if total else 0
        if count < 2 or first.first is None:
            yield lower, upper
            return
        step = total / count
        # The second probe says which end the listing starts from (newest-first is common, undocumented).
        second = self._probe(lower, upper, round(step), self._page_size)
        if second.first is None:  # `total` counts more than this range holds: no quantiles to be had
            yield lower, upper
            return
        oldest_first = second.first >= first.first
        # cut q (in time order) is near the event at offset q*step oldest-first, (count-q)*step newest-first;
        # the second probe's offset is the first cut oldest-first, the last one newest-first
        start = lower
        for quantile in range(1, count):
            offset = round((quantile if oldest_first else count - quantile) * step)
            page = second if offset == round(step) else self._probe(lower, upper, offset, self._page_size)
            if not page.timestamps:
                break  # the listing ended early (`total` counts more than this range holds)
            end = _cut_in_gap(page.timestamps)
            if end and end - start >= MIN_WINDOW and upper - end >= MIN_WINDOW:
                yield start, end
                start = end
        yield start, upper


def _cut_in_gap(timestamps: list[datetime]) -> datetime | None:
    """A whole second in the widest gap of at least CUT_GAP between the page's events, if there is one."""
    ordered = sorted(timestamps)
    gaps = [(later - earlier, earlier) for earlier, later in zip(ordered, ordered[1:], strict=False)]
    width, before = max(gaps, default=(timedelta(0), None))
    if before is None or width < CUT_GAP:
        return None
    return before.replace(microsecond=0) + timedelta(seconds=3)


@dataclass
class FlameupSliceWindowFilter(RecordFilter):
    """Keeps the records whose `timestamp` lies in the slice's half-open window [start_time, end_time).

    The requester asks for a wider window than the slice (see `flameup_requester`) because Flameup does not
    say whether `since`/`until` are inclusive nor at what precision they compare. Filtering here on parsed
    date-times (any number of fractional digits) puts every event in exactly one slice: none is lost at a
    boundary and none is emitted twice by neighbouring slices.
    """

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        if not stream_slice or "start_time" not in stream_slice:
            yield from records
            return
        start = parse_timestamp(stream_slice["start_time"])
        end = parse_timestamp(stream_slice["end_time"])
        for record in records:
            if start <= event_time(record) < end:
                yield record


def event_time(record: Mapping[str, Any]):
    value = record.get("timestamp")
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        raise AirbyteTracedException(
            message=f"Flameup returned event {record.get('id')!r} with an unreadable timestamp {value!r}.",
            internal_message="an event's timestamp is not an ISO 8601 date-time",
            failure_type=FailureType.system_error,
        ) from None
