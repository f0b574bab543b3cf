"""How Flameup pages: `limit`/`offset` over one window's listing, ending on evidence from the data, with a page
size found at run time.

Flameup answers `{"events": [...], "total": 42}` and documents neither its largest `limit` nor what `total`
counts (the filtered set? the workspace? an estimate? a count capped at 10,000?). So `total` is never a
reason to stop: paging ends on an empty page, or on a page shorter than the largest page this sync has
received (the API's effective cap, which may be below the `limit` asked for). `total` only keeps paging
going when it says more events follow a short page.

Requests are the cost (120 a minute per key), so when `flameup.page_size` is unset the connector asks for the
largest page the spec allows, and learns what Flameup does with it: a silent cap shows in the pages that
come back (paging advances by what arrived, so it costs nothing), and a 400/422 about `limit` makes the
next request ask for the size the message names, else half (source_events.flameup.errors tells; the
cursor settles the size with its first request, before any window is read).
"""

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events import manifest
from source_events.common.pages import EventsPagination, events_page

LOGGER = logging.getLogger("airbyte")


@dataclass
class FlameupOffsetPagination(EventsPagination):
    """Offset paging that ends on an empty page or a short one, whatever `total` says.

    - The offset advances by the events the page really held (counted in the raw response, before any
      client-side filter), so a silently capped `limit` skips nothing.
    - A page is short when it holds fewer events than the largest page of this sync (all windows of the
      stream share one strategy): with `limit=1000` capped at 100, a page of 100 is full and one of 20 ends
      the window. Until the sync has seen a full page, a short first page costs one more request, which
      comes back empty.
    - `total` is a hint: a short page is not the end when `total` says more events follow (an API whose
      page sizes vary is then still read to the end); an under-reporting, capped or absent `total` ends
      nothing early.

    Cost when `total` is right: a window's last page is short and ends it with no extra request; a full
    last page is followed by one empty page.

        pagination_strategy:
          type: CustomPaginationStrategy
          class_name: source_events.flameup.paging.FlameupOffsetPagination
          page_size: "{{ config['flameup'].get('page_size') or '' }}"   # '' : found at run time
    """

    def __post_init__(self, parameters: Any) -> None:
        configured = str(InterpolatedString.create(str(self.page_size), parameters=parameters).eval(self.config))
        #: whether the page size is the connector's to find (flameup.page_size unset)
        self.automatic = configured.strip() in ("", "None")
        self._page_size = manifest.setting("flameup", "page_size")["maximum"] if self.automatic else int(configured)
        self._lock = threading.Lock()
        self._largest_page = 0
        self._largest_followed_page = 0
        self._previous_page: dict[int, int] = {}  # per window being read: the size of its page before this one
        self._rejected = False  # a `limit` was rejected: log the size settled on, once
        self._settled_logged = False

    @property
    def initial_token(self) -> Any | None:
        return 0

    @property
    def effective_page_size(self) -> int:
        """How many events a page really holds: the page size asked for, or less once a page that was not
        the last of its window has shown the API's cap."""
        with self._lock:
            return min(self._largest_followed_page or self._page_size, self._page_size)

    def capped_at(self, size: int) -> None:
        """A page of `size` events came back although more were asked for and more follow: the API's cap."""
        with self._lock:
            self._largest_followed_page = max(self._largest_followed_page, size)
            self._largest_page = max(self._largest_page, size)

    def rejected(self, limit: int, message: str) -> None:
        """Flameup refused `limit` (a 400/422 about it): ask for the largest size its message names below it,
        else for half of it. Only when the page size is the connector's to find."""
        if not self.automatic:
            return
        named = [int(number) for number in re.findall(r"\d+", message) if 0 < int(number) < limit]
        with self._lock:
            if limit >= self._page_size:  # not already settled lower by another window's rejection
                self._page_size = max(named) if named else max(limit // 2, 1)
            self._rejected = True

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
        self.accepted(page_size_override if page_size_override is not None else limit_asked(response))
        window = id(stream_slice)
        with self._lock:
            previous = self._previous_page.pop(window, None)
            if previous is not None and events:  # the page before this one was not the last
                self._largest_followed_page = max(self._largest_followed_page, previous)
            self._largest_page = max(self._largest_page, len(events))
            short = len(events) < self._largest_page
        next_offset = int(last_page_token_value or 0) + len(events)
        more_by_total = total is not None and next_offset < total
        if not events or (short and not more_by_total):
            return None
        with self._lock:
            self._previous_page[window] = len(events)
        return next_offset

    def found(self, asked: int, capped_at: int | None) -> None:
        """What the sync's first look found, in one log line, when the page size is the connector's to find
        (after a refusal, `accepted` says it)."""
        if not self.automatic or self._rejected:
            return
        if capped_at:
            LOGGER.info(
                f"Stream flameup_events: Flameup serves at most {capped_at:,} events a page (asked for {asked:,}); "
                "this sync pages by what arrives."
            )
        else:
            LOGGER.info(
                f"Stream flameup_events: `flameup.page_size` unset; this sync asks for {asked:,} events a page."
            )

    def accepted(self, limit: int | None) -> None:
        """Flameup answered a request for `limit` events: once it serves the size settled on after a rejection,
        say which (one log line a sync)."""
        with self._lock:
            if not self._rejected or self._settled_logged or limit != self._page_size:
                return
            self._settled_logged = True
        LOGGER.info(f"Stream flameup_events: Flameup rejects larger pages; this sync asks for {limit:,} events a page.")


def limit_asked(response: requests.Response) -> int | None:
    """The `limit` the request of this response asked for."""
    asked = parse_qs(urlsplit(response.request.url if response.request else "").query).get("limit")
    return int(asked[0]) if asked and asked[0].isdigit() else None
