"""bem's ordinary read: oldest first from a position, one page after another, until an empty page at a
confirmed position.

Each request names the last ID of the page before (`startingAfter`), as the vendor's SDK does, and a listing
ends only on an empty page (`totalCount` and short pages are no stop signal). A position can vanish while
the sync reads, not only between syncs: retention deletes the oldest events, exactly where a first sync
reading oldest first stands, and a user deletes the event just read. An API may then answer the request
naming it with a 400 (Stripe-style), with an empty page (which would end the sync early, forever), or with
the listing from its start. So:

- **every empty page after a position is confirmed** with one request for that event (`eventIDs=<id>`): still
  listed, the listing has ended; gone, the position vanished;
- a 400/404/422 to a request naming a position is a vanished position (BemErrorHandler hands it back);
- a page listing events older than the position (beyond the lookback) means the API did not resume there.

A vanished position falls back on the ID read before it on the same page (real, and listed moments ago),
then the one before that; once the page is used up the sync recovers (source_events.bem.recovery).
"""

import logging
from dataclasses import dataclass
from typing import Any

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.position import LookbackPosition

LOGGER = logging.getLogger("airbyte")

OLDEST_FIRST = "asc"
NEWEST_FIRST = "desc"


@dataclass(frozen=True)
class Request:
    """What the next request asks for, beside the configured filters (the manifest's `bem_requester`)."""

    sort_order: str
    limit: int
    starting_after: str | None = None
    event_ids: str | None = None

    @property
    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {"sortOrder": self.sort_order, "limit": self.limit}
        if self.starting_after:
            query["startingAfter"] = self.starting_after
        if self.event_ids:
            query["eventIDs"] = self.event_ids
        return query


class ForwardRead:
    """Oldest first from `position.resume_after` (None: the listing's start)."""

    def __init__(self, position: LookbackPosition, page_size: int, strays_seconds: int) -> None:
        self.position = position
        self._page_size = page_size
        self._strays = strays_seconds  # how far an event's second may lie behind the listing's order
        self._after = position.resume_after
        self._saved_second = ksuid_seconds(self._after) if self._after else None
        self._furthest: int | None = None  # the furthest second read
        self._page: set[str] = set()  # the IDs of the last page read: not emitted twice after a fall-back
        self._trail: list[str] = []  # the IDs of the last page up to the position: where to fall back
        self._confirming = False
        self.request: Request | None = Request(OLDEST_FIRST, page_size, self._after)
        #: why the position vanished, once no position of the last page is left to fall back on
        self.vanished: str | None = None

    @property
    def done(self) -> bool:
        return self.request is None

    def take(self, ids: list[str], accepted: bool) -> list[str]:
        """The answer to `self.request` (`accepted`: not a rejected position). Returns the IDs to emit."""
        if self._confirming:
            self._confirming = False
            if accepted and self._after in ids:
                self.request = None  # the position is listed and nothing follows it: the end
            else:
                self._fall_back(f"bem no longer lists {self._after}")
            return []
        if not accepted:
            self._fall_back(f"bem rejected startingAfter={self._after}")
            return []
        if not ids:
            if self._after is None:
                self.request = None  # nothing listed at all
            else:
                self._confirming = True
                self.request = Request(OLDEST_FIRST, 1, event_ids=self._after)
            return []
        if self._goes_back_in_time(ids):
            self._fall_back(f"bem listed older events after startingAfter={self._after}")
            return []
        fresh = [event_id for event_id in ids if event_id not in self._page]
        for event_id in fresh:
            self.position.read(event_id)
            second = ksuid_seconds(event_id)
            if second is not None:
                self._furthest = second if self._furthest is None else max(self._furthest, second)
        self._page = set(ids)
        self._trail = ids
        self._after = ids[-1]
        self.request = Request(OLDEST_FIRST, self._page_size, self._after)
        return fresh

    def _fall_back(self, why: str) -> None:
        """The position vanished: resume after the ID read before it on the last page, if any is left."""
        earlier = self._trail[: self._trail.index(self._after)] if self._after in self._trail else []
        if not earlier:
            self.vanished = why
            self.request = None
            return
        LOGGER.info(f"Stream bem_events: {why}; resuming after the event read before it.")
        self._trail = earlier  # what follows it is read again, and not emitted twice (self._page)
        self._after = earlier[-1]
        self.request = Request(OLDEST_FIRST, self._page_size, self._after)

    def _goes_back_in_time(self, ids: list[str]) -> bool:
        """Whether the page lists an event further behind what was read (or the position resumed from) than
        events may stray: the API answered a position it no longer knows with its listing's start, or does not
        list oldest first."""
        furthest = self._furthest if self._furthest is not None else self._saved_second
        if furthest is None:
            return False
        seconds = [second for second in map(ksuid_seconds, ids) if second is not None]
        return bool(seconds) and min(seconds) < furthest - self._strays
