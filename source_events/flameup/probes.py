"""What Flameup's cursor asks before it reads windows: the first look (which settles the page size) and the
window planner's "does this range hold more than n events?", through the stream's own requester (its auth,
error handling and API budget). And the answers it keeps, so the read does not ask the same twice."""

import threading
from datetime import datetime
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.page_size_reduction_exception import PageSizeReductionRequiredException
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.common.pages import events_page
from source_events.common.timestamps import format_timestamp
from source_events.flameup.paging import FlameupOffsetPagination
from source_events.flameup.windows import ProbeAnswer


def window_slice(start: datetime, end: datetime) -> StreamSlice:
    return StreamSlice(
        partition={}, cursor_slice={"start_time": format_timestamp(start), "end_time": format_timestamp(end)}
    )


class RequesterKeepingAnswers:
    """The stream's requester (the CDK's HttpRequester, wrapped), which answers a request the first look has
    just made once more from what it got, instead of asking Flameup again.

    When the first look shows that the whole range fits in one page, the range is read as one window whose
    first request (offset 0, the same `limit`) is the first look's own, and whose second, when that page
    was short, asks at the offset the first look's probe found empty. An incremental sync with nothing new
    is then 1 or 2 requests, not 2 to 4. Exact as a re-read: an event that arrives between the first look and
    the read is late for this sync either way, and the next sync's lookback reads it.
    """

    def __init__(self, requester: Any) -> None:
        self.requester = requester
        self._kept: dict[tuple[str, str, str, str], requests.Response] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # everything else is the CDK requester's
        if name == "requester":
            raise AttributeError(name)
        return getattr(self.requester, name)

    def keep(self, window: StreamSlice, offset: int, limit: int | None, response: requests.Response) -> None:
        """Answer the next request of `window` at `offset` and `limit` with `response`, once; `limit` None: at
        any limit (an empty page: nothing lies at that offset, however many events are asked for)."""
        with self._lock:
            self._kept[_key(window, offset, limit)] = response

    def send_request(self, *args: Any, **kwargs: Any) -> requests.Response | None:
        window, params = kwargs.get("stream_slice"), kwargs.get("request_params") or {}
        if window is not None and "offset" in params and self._kept:
            with self._lock:
                kept = self._kept.pop(_key(window, params["offset"], params.get("limit")), None)
                if kept is None:
                    kept = self._kept.pop(_key(window, params["offset"], None), None)
            if kept is not None:
                return kept
        return self.requester.send_request(*args, **kwargs)


def _key(window: StreamSlice, offset: Any, limit: Any) -> tuple[str, str, str, str]:
    return (str(window["start_time"]), str(window["end_time"]), str(offset), "any" if limit is None else str(limit))


class FlameupProbes:
    SETTLE_ATTEMPTS = 12  # page sizes tried before giving up: halving 1000 reaches 1 in 10

    def __init__(self, requester: RequesterKeepingAnswers, paging: FlameupOffsetPagination) -> None:
        self._requester = requester
        self._paging = paging

    def holds_more_than(self, lower: datetime, upper: datetime, n: int) -> ProbeAnswer:
        """Whether [lower, upper) holds more than n events: one `limit=1` request at `offset=n` returns an event
        only if there is an (n+1)-th. With the answer's `total`, a hint for the window planner."""
        events, total = events_page(self._ask(lower, upper, limit=1, offset=n))
        return ProbeAnswer(holds_more=bool(events), total=total)

    def first_look(self, lower: datetime, upper: datetime) -> bool:
        """The sync's first request: the range's first page at the page size to use, which settles that size
        (a refused `limit` is asked again smaller, source_events.flameup.errors) and shows a cap below it.
        Whether the whole range fits in that page: then it is one window, read without planning, whose
        requests are answered from this look's (RequesterKeepingAnswers)."""
        for _ in range(self.SETTLE_ATTEMPTS):
            asked = self._paging.get_page_size()
            try:
                first_page = self._ask(lower, upper, limit=asked, offset=0)
            except PageSizeReductionRequiredException:
                continue  # the error handler told the paging which size to ask for next
            self._paging.accepted(asked)
            break
        else:
            raise AirbyteTracedException(
                message="Flameup refused every page size the connector asked for; set `flameup.page_size` to "
                "a size Flameup accepts.",
                internal_message=f"{self.SETTLE_ATTEMPTS} page sizes refused",
                failure_type=FailureType.config_error,
            )
        events = events_page(first_page)[0]
        if len(events) >= asked:
            self._paging.found(asked, capped_at=None)
            return False
        window = window_slice(lower, upper)
        if events:
            after = self._ask(lower, upper, limit=1, offset=len(events))
            if events_page(after)[0]:
                self._paging.capped_at(len(events))  # fewer than asked, and more follow: Flameup's cap
                self._paging.found(asked, capped_at=len(events))
                return False
            self._requester.keep(window, len(events), None, after)
        self._paging.found(asked, capped_at=None)
        self._requester.keep(window, 0, asked, first_page)
        return True

    def _ask(self, lower: datetime, upper: datetime, limit: int, offset: int) -> requests.Response:
        """One request to Flameup, never answered from a kept one."""
        return self._requester.requester.send_request(
            stream_slice=window_slice(lower, upper), request_params={"limit": limit, "offset": offset}
        )
