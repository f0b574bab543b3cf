"""Flameup's time windows: each holds at most about MAX_PAGES_PER_WINDOW pages, by evidence from the data.

A window is what the stream checkpoints: state moves to a window's end once it and every window before it
were read completely. Windows of a fixed span cost one request each even when empty (ten sparse years of
daily windows: 3,650 requests at 120 a minute), and a span too wide for dense data never checkpoints. So the
range is cut where the events are:

    a range is one window when it holds at most MAX_PAGES_PER_WINDOW pages of events; otherwise it is cut
    into parts and each part is planned the same way, oldest first.

"Holds more than n events" is asked of the data, not of `total`: one request for `limit=1` at `offset=n`
of the range, which returns an event only if there is an (n+1)-th. That needs neither `total` (whose meaning
Flameup does not document) nor any sort order of the listing.

`total` only decides how many parts a range is cut into, as a hint (TotalHint): while every answer's `total`
agrees with the data, a range is cut into parts of about TARGET_SHARE of a window each, so a steady history
costs about one probe per window of ~45 pages. Once a `total` contradicts the data (more than n events where
a probe found none past n, or n or fewer where it found more: estimated, capped, counting the workspace), it
is ignored for the rest of the sync and ranges are cut in halves: about two probes per window, which then
holds between half and all of MAX_PAGES_PER_WINDOW pages. Either way sparse years cost a probe per cut, not
a request per empty week.

A range shorter than 2 * MIN_SPAN is not cut: a burst of events sharing a second cannot be split, and
stays one window, however many pages it holds. Neighbouring windows both read the seconds around their
boundary (each asks 1-2 s wider, see `flameup_requester`), so a cut costs the events of those seconds twice.

Nothing here decides what is read: the windows always tile [lower, upper) and each is read completely
(FlameupSliceWindowFilter keeps each event in exactly one window).
"""

import math
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
            limit = MAX_PAGES_PER_WINDOW * self._page_size()
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
