"""bem's oldest-first reader: from a position up, one page after another, until it meets the newest-first reader
(source_events.bem.meeting), or an empty page at a confirmed position ends the listing.

Each request names the last ID of the page before that page's last second (`startingAfter`, source_events.bem.anchor):
the vendor's SDK names the page's last ID, which can skip the rest of its second; `totalCount` and short pages are no
stop signal. A position can vanish while the sync reads, not only between syncs: retention
deletes the oldest events, exactly where a first sync reading oldest first stands, and a user deletes the
event just read. An API may then answer the request naming it with a 400 (Stripe-style), with an empty page
(which would end the read early, forever), or with the listing from its start. So:

- **every empty page after a position is confirmed** with one request for that event (`eventIDs=<id>`): still
  listed, the listing has ended; gone, the position vanished;
- a 400/404/422 to a request naming a position is a vanished position (BemErrorHandler hands it back);
- a page listing events older than the position (by more than events may stray) means the API did not resume
  there.

A vanished position falls back on the ID read before it on the same page (real, and listed moments ago), then
the one before that. Once none is left, the listing's first page shows whether everything before the position
is gone (retention at the oldest end: it starts at the position's second, with no event this reader read): then
the read goes on from there. Otherwise this reader stops, and the newest-first reader reads down to where it
stood.
"""

import logging
from dataclasses import dataclass
from typing import Any

from source_events.bem.anchor import Anchoring, further_back
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.meeting import Meeting
from source_events.bem.position import LookbackPosition
from source_events.bem.state import MARGIN_SECONDS

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


def seconds_of(ids: list[str]) -> list[int]:
    return [second for second in map(ksuid_seconds, ids) if second is not None]


class ForwardRead:
    """Oldest first after `after` (None: the listing's start), up to `ceiling_second` at most (None: no ceiling; a
    killed sync's newest-first reader read everything above it). `position` is its lookback: where the next sync
    resumes, at or before `after`."""

    def __init__(
        self,
        position: LookbackPosition,
        page_size: int,
        apart_seconds: int,
        meeting: Meeting,
        after: str | None,
        ceiling_second: int | None = None,
        anchoring: Anchoring | None = None,
    ) -> None:
        self.position = position
        self._anchoring = anchoring or Anchoring()  # shared with the newest-first reader
        self._page_size = page_size
        self._apart = apart_seconds  # how far two events' ID seconds may lie apart against the listing's order
        self._meeting = meeting
        self._ceiling = ceiling_second
        self.after = after  # the position the next page resumes after
        self._resumed_second = ksuid_seconds(self.after) if self.after else None
        self._furthest: int | None = None  # the furthest second read
        self._page: set[str] = set()  # the IDs of the last page read: not emitted twice after a fall-back
        self._trail: list[str] = []  # the IDs of the last page up to the position: where to fall back
        self._step = "page"  # "page", "confirm", or "listing start"
        self.request: Request | None = Request(OLDEST_FIRST, page_size, self.after)
        self.met = False  # it stopped where the other reader had read
        self.vanished = False  # it stopped because its position vanished, and the newest-first reader reads on
        #: once it vanished: under this second it read everything (None: the IDs carry no second, nothing known)
        self.read_under: int | None = None

    @property
    def done(self) -> bool:
        return self.request is None

    @property
    def resumes_after(self) -> str | None:
        """Where a resumed sync's reader asks from (its state): further back than `after` on its page, since the
        answer comes to a reader without that page, which cannot check it (source_events.bem.anchor)."""
        return further_back(self._trail, self.after)

    @property
    def covered(self) -> bool:
        """Whether it read its whole part: it met the other reader, reached its ceiling or the listing's end."""
        return self.done and not self.vanished

    def take(self, ids: list[str], accepted: bool) -> list[str]:
        """The answer to `self.request` (`accepted`: not a rejected position). Returns the IDs to emit."""
        step, self._step = self._step, "page"
        if step == "confirm":
            if accepted and self.after in ids:
                self.request = None  # the position is listed and nothing follows it: the end
                self._meeting.reached_the_end(Meeting.OLDEST_FIRST)
            else:
                self._fall_back(f"bem no longer lists {self.after}")
            return []
        if step == "listing start":
            return self._after_listing_start(ids)
        if not accepted:
            self._fall_back(f"bem rejected startingAfter={self.after}")
            return []
        if not ids:
            if self.after is None:
                self.request = None  # nothing listed at all
                self._meeting.reached_the_end(Meeting.OLDEST_FIRST)
            else:
                self._step, self.request = "confirm", Request(OLDEST_FIRST, 1, event_ids=self.after)
            return []
        if self._goes_back_in_time(ids):
            self._fall_back(f"bem listed older events after startingAfter={self.after}")
            return []
        return self._read(ids)

    def _read(self, ids: list[str]) -> list[str]:
        self._anchoring.note_order(ids, newest_first=False)
        again = self._anchoring.recovery(self._trail, self.after, ids)
        if again is not None:  # bem skipped events after the ID named: none of this answer is taken, asked again
            LOGGER.info(f"Stream bem_events: bem skipped events after startingAfter={self.after}; asking again.")
            self.after, self.request = again, Request(OLDEST_FIRST, self._page_size, again)
            return []
        fresh = [event_id for event_id in ids if event_id not in self._page]
        emit, met_at = self._meeting.arrive(Meeting.OLDEST_FIRST, fresh)
        read = fresh if met_at is None else fresh[:met_at]
        for event_id in read:
            self.position.read(event_id)
            second = ksuid_seconds(event_id)
            if second is not None:
                self._furthest = second if self._furthest is None else max(self._furthest, second)
        self.met = met_at is not None
        self._page = set(ids)
        self._trail = ids
        # where it stands: before the page's last second (source_events.bem.anchor), or, once it met the other reader,
        # the last event it read
        self.after = self._anchoring.resume_after(ids) if not self.met else (read[-1] if read else self.after)
        reached_ceiling = self._ceiling is not None and self._furthest is not None and self._furthest > self._ceiling
        self.request = None if self.met or reached_ceiling else Request(OLDEST_FIRST, self._page_size, self.after)
        return emit

    def _fall_back(self, why: str) -> None:
        """The position vanished: resume after the ID read before it on the last page; once none is left, look at
        the listing's first page."""
        earlier = self._trail[: self._trail.index(self.after)] if self.after in self._trail else []
        if earlier:
            LOGGER.info(f"Stream bem_events: {why}; resuming after the event read before it.")
            self._trail = earlier  # what follows it is read again, and not emitted twice (self._page)
            self.after = earlier[-1]
            self.request = Request(OLDEST_FIRST, self._page_size, self.after)
            return
        self._why = why
        self._step, self.request = "listing start", Request(OLDEST_FIRST, self._page_size)

    def _after_listing_start(self, ids: list[str]) -> list[str]:
        lost = ksuid_seconds(self.after) if self.after else None
        floor = lost - self._apart if lost is not None else None
        oldest = ksuid_seconds(ids[0]) if ids else None
        # retention: the listing now starts where this reader stood (within a clock's error), with nothing it read
        gone_before = (
            oldest is not None
            and lost is not None
            and oldest >= lost - MARGIN_SECONDS
            and not self._meeting.has_read(Meeting.OLDEST_FIRST, ids)
        )
        if gone_before:
            LOGGER.info(f"Stream bem_events: {self._why}; nothing is listed before it any more: reading on from there.")
            self._page, self._trail = set(), []
            return self._read(ids)
        if not ids:
            self.request = None  # nothing is listed any more
            return []
        LOGGER.warning(
            f"Stream bem_events: {self._why}. Reading what is listed after it newest first, down to "
            + (f"{self._apart} s before it." if floor is not None else "the oldest event.")
        )
        self.vanished, self.read_under = True, floor
        self.request = None
        return []

    def _goes_back_in_time(self, ids: list[str]) -> bool:
        """Whether the page lists an event further behind what was read (or the position resumed from) than
        events may stray: the API answered a position it no longer knows with its listing's start, or does not
        list oldest first."""
        furthest = self._furthest if self._furthest is not None else self._resumed_second
        seconds = seconds_of(ids)
        return furthest is not None and bool(seconds) and min(seconds) < furthest - self._apart
