"""bem's recovery of a position that vanished: read what is listed after it, without reading the history
before it again.

The position's event was deleted, expired by retention, or no longer matches the filters, and no ID of the
page read before it is left to resume from (source_events.bem.forward). What is listed after it now lies above
`floor_second` (the position's second less the seconds an event may stray from the listing's order). In turn:

1. The listing's first page, oldest first: when its first event is not under the floor, everything before
   the position is gone (retention at the oldest end, where a long first sync reading oldest first stands),
   and the ordinary read simply goes on from this page. Nothing is read twice.
2. Otherwise the newest event (`sortOrder=desc`, `limit=1`): the same event as the oldest means the API
   ignores `sortOrder` (with more than one listed): the whole listing is read oldest first from this first
   page (everything again: duplicates, never a gap).
3. Otherwise the listing is read newest first from its top down to the floor. Its own position can vanish too:
   an empty page is confirmed like the ordinary read's, and a rejected or vanished position starts it again
   from the top (RESTARTS times at most). The next sync resumes from the top (TopOfListing).

While it reads newest first, the state carries `recovering`, so a killed sync resumes the recovery.
"""

import logging
from enum import Enum

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.bem.forward import NEWEST_FIRST, OLDEST_FIRST, Request
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.position import TopOfListing
from source_events.bem.state import Position, Recovery, Top

LOGGER = logging.getLogger("airbyte")

# A newest-first read whose own position vanishes starts again from the top, this many times at most.
RESTARTS = 3


class Step(Enum):
    LISTING_START = "the listing's first page, oldest first"
    NEWEST = "the newest event"
    BACKWARD = "newest first, down to the floor"
    CONFIRM = "is the newest-first position still listed?"


class Outcome(Enum):
    READ_ON_FROM_START = "the ordinary read goes on from the listing's first page"
    RESUME_FROM_TOP = "the listing was read down to the floor: the next sync resumes from its top"


class NewestFirstRecovery:
    def __init__(self, floor_second: int | None, page_size: int, lookback_seconds: int, strays_seconds: int) -> None:
        self._floor = floor_second
        self._page_size = page_size
        self._lookback = lookback_seconds
        self._strays = strays_seconds
        self._restarts = 0
        self._after: str | None = None  # the newest-first position
        self._top = TopOfListing(None, None, lookback_seconds, page_size)
        self.step = Step.LISTING_START
        self.request: Request | None = Request(OLDEST_FIRST, page_size)
        self.outcome: Outcome | None = None
        self.first_page: list[str] = []  # the listing's first page, oldest first (READ_ON_FROM_START reads on from it)
        self.checkpoint_due = False

    @classmethod
    def resumed(
        cls, saved: Recovery, page_size: int, lookback_seconds: int, strays_seconds: int
    ) -> "NewestFirstRecovery":
        """A recovery that a killed sync left while it read newest first: it goes on from where it stood."""
        recovery = cls(saved.floor_second, page_size, lookback_seconds, strays_seconds)
        recovery._top = TopOfListing(saved.top.eventID, saved.top.below, lookback_seconds, page_size)
        recovery._after = saved.starting_after
        recovery.step = Step.BACKWARD
        recovery.request = Request(NEWEST_FIRST, page_size, saved.starting_after)
        return recovery

    @property
    def done(self) -> bool:
        return self.request is None

    def take(self, ids: list[str], accepted: bool) -> list[str]:
        """The answer to `self.request`. Returns the IDs to emit."""
        self.checkpoint_due = False
        if self.step is Step.LISTING_START:
            return self._after_listing_start(ids)
        if self.step is Step.NEWEST:
            return self._after_newest(ids)
        if self.step is Step.CONFIRM:
            if accepted and self._after in ids:
                return self._finish()  # the position is listed and nothing lies under it
            return self._restart(f"bem no longer lists {self._after}")
        return self._after_backward_page(ids, accepted)

    def _after_listing_start(self, ids: list[str]) -> list[str]:
        self.first_page = ids
        if not ids:
            self.outcome, self.request = Outcome.RESUME_FROM_TOP, None  # nothing is listed: start afresh
            return []
        oldest = ksuid_seconds(ids[0])
        if self._floor is not None and oldest is not None and oldest >= self._floor:
            LOGGER.info("Stream bem_events: nothing is listed before the vanished position any more; reading on.")
            self.outcome, self.request = Outcome.READ_ON_FROM_START, None
            return []
        self.step, self.request = Step.NEWEST, Request(NEWEST_FIRST, 1)
        return []

    def _after_newest(self, ids: list[str]) -> list[str]:
        if not ids:
            self.outcome, self.request = Outcome.RESUME_FROM_TOP, None
            return []
        if ids[0] == self.first_page[0] and len(self.first_page) > 1:
            LOGGER.warning(
                "Stream bem_events: bem ignores sortOrder=desc (it listed the same event first both ways); reading "
                "the whole listing oldest first instead. Events read before are emitted again."
            )
            self.outcome, self.request = Outcome.READ_ON_FROM_START, None
            return []
        self._start_from_top()
        return []

    def _after_backward_page(self, ids: list[str], accepted: bool) -> list[str]:
        if not accepted:
            return self._restart(f"bem rejected startingAfter={self._after}")
        if not ids:
            if self._after is None:
                return self._finish()
            self.step, self.request = Step.CONFIRM, Request(NEWEST_FIRST, 1, event_ids=self._after)
            return []
        if self._goes_up(ids):
            return self._restart(f"bem listed newer events after startingAfter={self._after}")
        emitted = []
        reached_floor = False
        for event_id in ids:
            under_floor = self._under_floor(event_id)
            reached_floor = reached_floor or under_floor
            self._top.read(event_id, under_floor)
            if not under_floor:
                emitted.append(event_id)
        self._after = ids[-1]
        self.checkpoint_due = True
        if reached_floor:
            self._finish()
        else:
            self.request = Request(NEWEST_FIRST, self._page_size, self._after)
        return emitted

    def _start_from_top(self) -> None:
        self._after = None
        self._top = TopOfListing(None, None, self._lookback, self._page_size)
        self.step, self.request = Step.BACKWARD, Request(NEWEST_FIRST, self._page_size)

    def _restart(self, why: str) -> list[str]:
        self._restarts += 1
        if self._restarts > RESTARTS:
            raise AirbyteTracedException(
                message="bem kept losing the position of a newest-first read; retry the sync later.",
                internal_message=f"{why}; {RESTARTS} restarts",
                failure_type=FailureType.transient_error,
            )
        LOGGER.info(f"Stream bem_events: {why}; reading newest first again from the top.")
        self._start_from_top()
        return []

    def _finish(self) -> list[str]:
        self.outcome, self.request = Outcome.RESUME_FROM_TOP, None
        return []

    def _under_floor(self, event_id: str) -> bool:
        second = ksuid_seconds(event_id)
        return self._floor is not None and second is not None and second < self._floor

    def _goes_up(self, ids: list[str]) -> bool:
        """Whether a newest-first page lists an event further above the position than events may stray: the API
        answered a position it no longer knows with the top of its listing."""
        position = ksuid_seconds(self._after) if self._after else None
        seconds = [second for second in map(ksuid_seconds, ids) if second is not None]
        return position is not None and bool(seconds) and max(seconds) > position + self._strays

    @property
    def resume_position(self) -> Position:
        """Where the next sync resumes, once the listing was read from its top (RESUME_FROM_TOP)."""
        return self._top.position

    @property
    def saved(self) -> Recovery:
        """What a killed sync needs to go on with this recovery."""
        return Recovery(
            floor_second=self._floor,
            starting_after=self._after,
            top=Top(eventID=self._top.event_id, below=self._top.below),
        )
