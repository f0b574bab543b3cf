"""Flameup's time windows: each holds at most about MAX_PAGES_PER_WINDOW pages, by evidence from the data.

A window is what the stream checkpoints: state moves to a window's end once it and every window before it
were read completely. Windows of a fixed span cost one request each even when empty (ten sparse years of
daily windows: 3,650 requests at 120 a minute), and a span too wide for dense data never checkpoints. So the
range is cut where the events are, by bisection:

    a range is one window when it holds at most MAX_PAGES_PER_WINDOW pages of events; otherwise it is cut at
    its middle (a whole second) and each half is planned the same way, oldest half first.

"Holds more than n events" is asked of the data, not of `total`: one request for `limit=1` at `offset=n`
of the range, which returns an event only if there is an (n+1)-th. That needs neither `total` (whose meaning
Flameup does not document) nor any sort order of the listing. A full sync therefore costs about two probes
per window (the window's own and its share of the cuts above it), and windows hold between about half and
all of MAX_PAGES_PER_WINDOW pages; sparse years cost a probe per halving, not a request per empty week.

A range shorter than 2 * MIN_SPAN is not cut: a burst of events sharing a second cannot be split, and
stays one window, however many pages it holds. Neighbouring windows both read the seconds around their
boundary (each asks 1-2 s wider, see `flameup_requester`), so a cut costs the events of those seconds twice.

Nothing here decides what is read: the windows always tile [lower, upper) and each is read completely
(FlameupSliceWindowFilter keeps each event in exactly one window).
"""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.common.timestamps import parse_timestamp

# At most this many pages per window (unless one burst holds more): a checkpoint every 25-50 pages.
MAX_PAGES_PER_WINDOW = 50
# Ranges shorter than twice this are not cut: a burst in one second cannot be split, and a cut costs the
# events of the ~3 s around it twice (a tenth of a window as short as this, even at 50 events a second).
MIN_SPAN = timedelta(seconds=15)

# (lower, upper, n) -> whether [lower, upper) holds more than n events; source_events.flameup.cursor asks the
# API through the stream's own requester
HoldsMoreThan = Callable[[datetime, datetime, int], bool]


class WindowPlanner:
    def __init__(self, holds_more_than: HoldsMoreThan, page_size: Callable[[], int]) -> None:
        self._holds_more_than = holds_more_than
        self._page_size = page_size  # read at each cut: the API's cap, once paging has shown it

    def windows(self, lower: datetime, upper: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Half-open windows that tile [lower, upper), in time order, planned as they are needed."""
        pending = [(lower, upper)]  # a stack: the oldest range on top
        while pending:
            start, end = pending.pop()
            if end - start >= 2 * MIN_SPAN and self._holds_more_than(
                start, end, MAX_PAGES_PER_WINDOW * self._page_size()
            ):
                middle = _whole_second(start + (end - start) / 2)
                pending += [(middle, end), (start, middle)]
            else:
                yield start, end


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass
class FlameupSliceWindowFilter(RecordFilter):
    """Keeps the records whose `timestamp` lies in the slice's half-open window [start_time, end_time).

    The requester asks for a wider window than the slice (see `flameup_requester`) because Flameup does not
    say whether `since`/`until` are inclusive nor at what precision they compare. Filtering here on parsed
    date-times (any number of fractional digits) puts every event in exactly one slice: none is lost at a
    boundary and none is emitted twice by neighbouring slices.

    Most events lie seconds away from both ends: a UTC timestamp whose whole second is strictly between the
    ends' seconds is inside without being parsed (the same text format compares as it sorts). Only events in
    the ends' own seconds, or written another way, are parsed.
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
        start_second, end_second = _utc_second(stream_slice["start_time"]), _utc_second(stream_slice["end_time"])
        for record in records:
            second = _utc_second(record.get("timestamp"))
            if second is not None and start_second is not None and end_second is not None:
                if start_second < second < end_second:
                    yield record
                    continue
                if second < start_second or second > end_second:
                    continue
            if start <= event_time(record) < end:
                yield record


# a UTC date-time's whole second, `2026-11-26T09:00:00`, followed by a fraction or Z
_UTC_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def _utc_second(value: Any) -> str | None:
    """The `YYYY-MM-DDTHH:MM:SS` of a UTC timestamp written that way, else None (parse it instead)."""
    if isinstance(value, str) and _UTC_SECOND.fullmatch(value):
        return value[:19]
    return None


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
