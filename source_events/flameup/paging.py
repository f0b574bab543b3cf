"""How Flameup pages: `limit`/`offset` over one window's listing, ending on evidence from the data.

Flameup answers `{"events": [...], "total": 42}` and documents neither its largest `limit` nor what `total`
counts (the filtered set? the workspace? an estimate? a count capped at 10,000?). So `total` is never a
reason to stop: paging ends on an empty page, or on a page shorter than the largest page this sync has
received (the API's effective cap, which may be below the `limit` asked for). `total` only keeps paging
going when it says more events follow a short page.
"""

import threading
from dataclasses import dataclass
from typing import Any

import requests
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.common.pages import EventsPagination, events_page


@dataclass
class FlameupOffsetPagination(EventsPagination):
    """Offset paging that ends on an empty page or a short one, whatever `total` says.

    - The offset advances by the events the page really held (counted in the raw response, before any
      client-side filter), so a silently capped `limit` skips nothing.
    - A page is short when it holds fewer events than the largest page of this sync (all windows of the
      stream share one strategy): with `limit=100` capped at 37, a page of 37 is full and one of 20 ends
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
          page_size: 100
    """

    def __post_init__(self, parameters: Any) -> None:
        super().__post_init__(parameters)
        self._lock = threading.Lock()
        self._largest_page = 0
        self._largest_followed_page = 0
        # per window being read: the size of its page before the one now arriving
        self._previous_page: dict[int, int] = {}

    @property
    def initial_token(self) -> Any | None:
        return 0

    @property
    def largest_page(self) -> int:
        """The most events any page of this sync held: a page with fewer is short."""
        return self._largest_page

    @property
    def effective_page_size(self) -> int:
        """How many events a page really holds: the page size asked for, or less once a page that was not
        the last of its window has shown the API's cap."""
        return min(self._largest_followed_page or self._page_size, self._page_size)

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
