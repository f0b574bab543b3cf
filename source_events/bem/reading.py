"""bem's whole read as one chain of requests: the ordinary read (source_events.bem.forward), and, when its
position vanished, the recovery (source_events.bem.recovery). bem pages one way (each request names the last
ID of the page before), so a sync is one partition, and the state is a function of the listing alone: one
reader, one order. The stream's retriever sends what the reading asks for (source_events.bem.retriever).
"""

import logging

import requests

from source_events.bem.forward import ForwardRead, Request
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.position import LookbackPosition
from source_events.bem.recovery import NewestFirstRecovery, Outcome
from source_events.bem.state import MARGIN_SECONDS, BemState, Position
from source_events.common.pages import events_page

LOGGER = logging.getLogger("airbyte")


class BemReading:
    def __init__(self, saved: BemState, page_size: int, lookback_seconds: int) -> None:
        self._page_size = page_size
        self._lookback = lookback_seconds
        # how far an event's second may lie behind the listing's order: IDs from clocks a second or two off, and
        # events listed late; the lookback covers as much
        self._strays = max(MARGIN_SECONDS, lookback_seconds)
        self._saved = saved
        self._before_recovery = saved.position  # the state a recovery keeps until it has read the listing
        self._forward: ForwardRead | None = None
        self._recovery: NewestFirstRecovery | None = None
        self._finished_at: Position | None = None
        self.checkpoint_due = False
        #: `totalCount` of the first answer when the read starts at the listing's start (a first sync): an estimate
        self.listing_count: int | None = None
        self._counts_the_listing = saved.recovering is None and saved.starting_after is None
        if saved.recovering is not None:
            self._recovery = NewestFirstRecovery.resumed(saved.recovering, page_size, lookback_seconds, self._strays)
        else:
            self._forward = self._forward_from(saved.position)

    @property
    def request(self) -> Request | None:
        """The next request to send; None once the read has ended."""
        reader = self._recovery or self._forward
        return reader.request if reader else None

    def take(self, response: requests.Response) -> list[str]:
        """The answer to `request`. Returns the IDs whose records to emit (in the answer's order)."""
        events, total = events_page(response)
        if self.listing_count is None and self._counts_the_listing:
            self.listing_count = total  # a first sync reads the whole listing: `totalCount` estimates its rows
        self._counts_the_listing = False
        ids = [
            event["eventID"] for event in events if isinstance(event, dict) and isinstance(event.get("eventID"), str)
        ]
        accepted = response.status_code == 200
        if self._recovery is not None:
            return self._take_in_recovery(ids, accepted)
        emitted = self._forward.take(ids, accepted)
        self.checkpoint_due = bool(emitted)
        if self._forward.vanished:
            self._recover(self._forward.vanished, self._forward.position)
        return emitted

    def _take_in_recovery(self, ids: list[str], accepted: bool) -> list[str]:
        recovery = self._recovery
        emitted = recovery.take(ids, accepted)
        self.checkpoint_due = recovery.checkpoint_due
        if recovery.outcome is Outcome.READ_ON_FROM_START:
            self._recovery = None
            self._forward = self._forward_from(Position())
            emitted = self._forward.take(recovery.first_page, True)  # the answer to the ordinary read's first request
            self.checkpoint_due = True
        elif recovery.outcome is Outcome.RESUME_FROM_TOP:
            self._recovery = None
            self._finished_at = recovery.resume_position
            self.checkpoint_due = True
        return emitted

    def _recover(self, why: str, lost: LookbackPosition) -> None:
        anchor = lost.resume_after or self._saved.starting_after
        second = ksuid_seconds(anchor) if anchor else None
        floor = second - self._strays if second is not None else None
        LOGGER.warning(
            f"Stream bem_events: {why}. Reading what is listed after it ("
            + (f"down to {self._strays} s before that position" if floor is not None else "down to the oldest event")
            + "); the sync then goes on as usual."
        )
        self._before_recovery = lost.position if lost.newest else self._saved.position
        self._forward = None
        self._recovery = NewestFirstRecovery(floor, self._page_size, self._lookback, self._strays)

    def _forward_from(self, position: Position) -> ForwardRead:
        return ForwardRead(LookbackPosition(position, self._lookback, self._page_size), self._page_size, self._strays)

    @property
    def state(self) -> BemState:
        if self._finished_at is not None:
            return BemState(eventID=self._finished_at.newest, starting_after=self._finished_at.starting_after)
        if self._recovery is not None:
            before = self._before_recovery
            return BemState(
                eventID=before.newest, starting_after=before.starting_after, recovering=self._recovery.saved
            )
        position = self._forward.position.position
        return BemState(eventID=position.newest, starting_after=position.starting_after)
