"""Manifest components for what YAML cannot say, one job each. Referenced from manifest.yaml by class name."""

import random
from abc import abstractmethod
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    SUCCESS_RESOLUTION,
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.timestamps import parse_timestamp
from source_events.two_ended import Meeting, Verdict


@dataclass
class EventsExtractor(RecordExtractor):
    """Yields the `events` array of a response body: `{"events": [...], "total": 42}` (both APIs).

    The CDK's DpathExtractor walks every leaf of the body to resolve its path: measured at ~13 ms per page
    of 100 bem events, the largest cost of a sync. Reading one key costs nothing. A body without `events`
    never gets here: the error handler retries it (`retry_body_without_events`).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[str, Any]]:
        yield from _events_in(_body(response))


def _body(response: requests.Response) -> Mapping[str, Any]:
    """The parsed body, parsed once per response: the extractor, the paginator and the window planner all
    read it (a page of events parsed three times was a measurable share of a sync)."""
    body = response.__dict__.get(_PARSED_BODY)
    if body is None:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = {}
        body = body if isinstance(body, Mapping) else {}
        response.__dict__[_PARSED_BODY] = body
    return body


_PARSED_BODY = "_source_events_parsed_body"


def events_page(response: requests.Response) -> tuple[list, int | None]:
    """A response's events and its integer `total` (None when there is none)."""
    body = _body(response)
    total = body.get("total")
    return _events_in(body), total if isinstance(total, int) and not isinstance(total, bool) else None


def _events_in(body: Mapping[str, Any]) -> list:
    events = body.get("events")
    return events if isinstance(events, list) else []


@dataclass
class _EventsPagination(PaginationStrategy):
    """What both APIs' paging strategies share: the page size (a manifest value that may read the config),
    and that an empty page ends paging. Each says in `token_after` what follows a page with events; both
    read the raw page, so records dropped client-side never end paging early."""

    config: Config
    page_size: int | str
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._page_size = int(InterpolatedString.create(str(self.page_size), parameters=parameters).eval(self.config))

    def get_page_size(self) -> int | None:
        return self._page_size

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None = None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        events, total = events_page(response)
        return self.token_after(events, total, last_page_token_value, stream_slice) if events else None

    @abstractmethod
    def token_after(
        self, events: list, total: int | None, last_token: Any | None, stream_slice: StreamSlice | None
    ) -> Any | None:
        """The next page's token after a page holding `events`, or None to stop."""


@dataclass
class FlameupOffsetIncrement(_EventsPagination):
    """Offset paging that survives a silently capped `limit`.

    Flameup answers `{"events": [...], "total": 42}` and documents neither its maximum `limit` nor what a
    short page means. The CDK's OffsetIncrement stops on a short page, so an API that caps `limit=100` at,
    say, 37 would end every window after 37 events. This strategy advances the offset by the events the
    page really held (counted in the raw response, before any client-side filter) and stops only when a
    page is empty or the offset has reached `total`.

        pagination_strategy:
          type: CustomPaginationStrategy
          class_name: source_events.components.FlameupOffsetIncrement
          page_size: 100
    """

    @property
    def initial_token(self) -> Any | None:
        return 0

    def token_after(
        self, events: list, total: int | None, last_token: Any | None, stream_slice: StreamSlice | None
    ) -> Any | None:
        next_offset = int(last_token or 0) + len(events)
        if total is not None and next_offset >= total:
            return None
        return next_offset


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


@dataclass
class BemAlreadyReadFilter(RecordFilter):
    """Drops the bem events this sync must not emit again, and ends a reader where another has been.

    - A resumed sync starts from an event of an earlier second than the last one read (IDs order only to
      the second, see BemEventIdCursor), so its first pages repeat events: their IDs travel in the slice as
      `skip_ids`.
    - A sync reading from both ends (source_events.two_ended) asks the slice's Meeting about each event:
      emit it, skip it (this reader emitted it before it resumed), or stop (the other reader has read it
      and everything past it).
    Paging reads the raw response, so dropping records here never ends it early: only a stop does.
    """

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        meeting = _meeting_of(stream_slice)
        if meeting is not None:
            sort_order = stream_slice["sort_order"]
            for record in records:
                verdict = meeting.admit(sort_order, record.get("eventID"))
                if verdict is Verdict.STOP:
                    return
                if verdict is Verdict.EMIT:
                    yield record
            return
        skip_ids = frozenset(stream_slice.get("skip_ids") or ()) if stream_slice else frozenset()
        for record in records:
            if record.get("eventID") not in skip_ids:
                yield record


def _meeting_of(stream_slice: StreamSlice | None) -> Meeting | None:
    return stream_slice.extra_fields.get("meeting") if isinstance(stream_slice, StreamSlice) else None


@dataclass
class BemStartingAfterPagination(_EventsPagination):
    """bem's paging, as its SDK does it: `startingAfter` = the last ID of the page, until an EMPTY page.

    A full last page is followed by one empty page, and `totalCount` is no stop signal. The ID is read
    from the raw response, so records dropped client-side never end paging early. On a sync reading from
    both ends, a reader also stops once its Meeting says it has reached the other.

        pagination_strategy:
          type: CustomPaginationStrategy
          class_name: source_events.components.BemStartingAfterPagination
          page_size: 100
    """

    @property
    def initial_token(self) -> Any | None:
        return None

    def token_after(
        self, events: list, total: int | None, last_token: Any | None, stream_slice: StreamSlice | None
    ) -> Any | None:
        meeting = _meeting_of(stream_slice)
        if meeting is not None and meeting.stopped(stream_slice["sort_order"]):
            return None
        return events[-1].get("eventID")


@dataclass
class EventsErrorHandler(DefaultErrorHandler):
    """The manifest's DefaultErrorHandler, plus one rule: a 200 is a success only if its body is an events page.

    The CDK's JSON decoder turns an HTML page or JSON cut short into `{}`, which paging would read as the
    last page: such a 200 is retried. As a `predicate` filter this rule cost a full stdlib JSON parse of
    every page (HttpResponseFilter parses the body before evaluating any predicate), ~4 % of a sync's CPU;
    here it reads the body parsed once for the extractor. Every other answer goes to the declared filters.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        # as the CDK's factory does for a DefaultErrorHandler: its default status mapping comes last
        self.response_filters.append(HttpResponseFilter(config=self.config, parameters={}))

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 200:
            if isinstance(_body(response_or_exception).get("events"), list):
                return SUCCESS_RESOLUTION
            return _BODY_WITHOUT_EVENTS
        return super().interpret_response(response_or_exception)


_BODY_WITHOUT_EVENTS = ErrorResolution(
    response_action=ResponseAction.RETRY,
    failure_type=FailureType.transient_error,
    error_message="The API answered with a body that is not an events list (HTML, or JSON cut short); retrying.",
)


@dataclass
class JitteredExponentialBackoff(BackoffStrategy):
    """The last resort when a retryable answer names no wait: exponential, capped, with jitter.

    Wait `factor * 2**attempt` seconds (capped at `max_seconds`), then keep a random 50-100 % of it
    ("equal jitter"), so that parallel windows, or several connections sharing a key, do not retry in
    lock-step. The CDK's ExponentialBackoffStrategy has no jitter.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    factor: float = 2
    max_seconds: float = 60

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        base = min(float(self.max_seconds), float(self.factor) * 2 ** max(attempt_count, 0))
        return base / 2 + random.uniform(0, base / 2)


@dataclass
class WaitTimeFromMillisecondsHeader(BackoffStrategy):
    """Waits as long as a header says in milliseconds (bem's `retry-after-ms`, honoured by its SDK).

    The CDK's WaitTimeFromHeader reads seconds only.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    header: str = "retry-after-ms"

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        try:
            milliseconds = float(response_or_exception.headers.get(self.header, ""))
        except ValueError:
            return None
        return milliseconds / 1000 if milliseconds > 0 else None
