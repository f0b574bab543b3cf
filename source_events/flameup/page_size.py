"""Flameup's page size: the `limit` to ask for, and the largest page Flameup really serves.

Flameup documents neither its largest `limit` nor its default, and may cap a page without a word. Requests are
the cost (120 a minute per key), so when `flameup.page_size` is unset the connector asks for the most the
spec allows and learns from the answers:

- a silent cap shows as pages shorter than asked that are followed by more events: their size is the cap;
- a 400/422 about `limit` (handed back by source_events.flameup.errors) makes the next request ask for the
  size the message names below it, else half (`refused`).

A size the user sets is sent as it is, and a refusal of it is a config error (FlameupErrorHandler).
One object per sync, shared by its windows (they read concurrently): a lock guards it.
"""

import logging
import re
import threading

from source_events import manifest

LOGGER = logging.getLogger("airbyte")

# A `flameup.page_size` set below this is said once a sync: at Flameup's 120 requests a minute it caps what a sync
# reads (pages of 10: 1,200 events a minute), and at pages of one each event costs about two requests.
SMALL_PAGE = 100


class PageSize:
    def __init__(self, configured: int | None, requests_per_minute: int | None = None) -> None:
        #: whether the page size is the connector's to find (`flameup.page_size` unset)
        self.automatic = configured is None
        self._limit = manifest.setting("flameup", "page_size")["maximum"] if configured is None else configured
        self._cap: int | None = None  # the largest page seen followed by more events in its listing
        self._largest = 0  # the largest page received
        self._lock = threading.Lock()
        self._refusals = 0
        self._told = False
        # the pace the log line quotes: the configured one (`flameup.requests_per_minute`), else Flameup's limit
        self._per_minute = requests_per_minute or manifest.setting("flameup", "requests_per_minute")["default"]

    @property
    def limit(self) -> int:
        """The `limit` to ask for."""
        with self._lock:
            return self._limit

    @property
    def full(self) -> int:
        """How many events a full page holds: the limit, or the API's cap once a page has shown it."""
        with self._lock:
            # a page of `largest` events came back: the cap is no smaller (pages filtered after cutting are shorter)
            return min(max(self._cap, self._largest) if self._cap else self._limit, self._limit)

    @property
    def largest(self) -> int:
        """The largest page received so far (0 before any)."""
        with self._lock:
            return self._largest

    def received(self, size: int, followed_by_more: bool | None = None) -> None:
        """A page of `size` events came back; `followed_by_more`: the next page of its listing held events."""
        with self._lock:
            self._largest = max(self._largest, min(size, self._limit))
            if followed_by_more and size < self._limit:
                self._cap = max(self._cap or 0, size)

    def refused(self, limit: int, message: str) -> None:
        """Flameup refused `limit`: ask for the largest size its message names below it, else for half of it."""
        named = [int(number) for number in re.findall(r"\d+", message) if 0 < int(number) < limit]
        with self._lock:
            if limit >= self._limit:  # not already lowered by another window's refusal
                self._limit = max(named) if named else max(limit // 2, 1)
            self._refusals += 1

    @property
    def refusals(self) -> int:
        with self._lock:
            return self._refusals

    def tell(self) -> None:
        """One log line, once the first answer settled the size: what the connector asks for and why (worded for a
        sync and for `check`, which reads one page the same way)."""
        with self._lock:
            if self._told:
                return
            self._told = True
            limit, cap, refused = self._limit, self._cap, self._refusals
        if not self.automatic:
            if limit < SMALL_PAGE:
                per_minute = self._per_minute
                LOGGER.warning(
                    f"Stream flameup_events: `flameup.page_size` is {limit:,}: each request reads at most {limit:,} "
                    f"events, so at {per_minute:,} requests a minute a sync reads at most "
                    f"{per_minute * limit:,} a minute"
                    + (" (about half that at pages of one)" if limit == 1 else "")
                    + ". Leave it unset to read the largest pages Flameup serves."
                )
            return
        if refused:
            LOGGER.info(f"Stream flameup_events: Flameup rejects larger pages; asking for {limit:,} events a page.")
        elif cap and cap < limit:
            LOGGER.info(
                f"Stream flameup_events: Flameup serves at most {cap:,} events a page (asked for {limit:,}); "
                "paging by what arrives."
            )
        else:
            LOGGER.info(f"Stream flameup_events: `flameup.page_size` unset; asking for {limit:,} events a page.")
