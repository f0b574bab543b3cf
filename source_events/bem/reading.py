"""bem's whole read, one request at a time, decided in one place.

bem pages one way: each request names the last ID of the page before (`startingAfter`), so a sync is a
chain of requests and is read as one partition. `BemReading` decides every request of that chain and which
records to emit; the stream's retriever only sends what it asks for (source_events.bem.retriever):

1. **Oldest first from the saved position** (`sortOrder=asc`, `startingAfter=<starting_after>`), skipping
   `already_read`, page after page until an empty page, as the vendor's SDK does (`totalCount` is no stop
   signal, and neither is a short page). This is the whole sync when all is well: an incremental sync with
   nothing new costs 2 requests (the saved second's events, then an empty page).
2. **Is the saved position still there?** It vanishes when its event is deleted, expires by retention, or
   no longer matches the filters. An API may then answer `startingAfter` with a 400 (Stripe-style), with an
   empty page (every later sync would see "nothing new", forever), or with the listing from its start. So:
   - a 400/404/422 to a request with `startingAfter` is not a config error but a rejected position;
   - an empty first page is checked with one request, `eventIDs=<starting_after>`: found, nothing is new;
   - a first page older than the saved position, or any page that goes back in time (more than
     MARGIN_SECONDS), means the position was ignored or the listing is not oldest first.
3. **Recovery**, when the position vanished: one line is logged, the newest event and the oldest are
   asked for (`limit=1` each: does the API honour `sortOrder`?), then the listing is read newest first from
   its top down to MARGIN_SECONDS under the saved second, skipping what was read before. The next state is
   an ordinary one, after the first ID under the seconds the recovery started in (TopOfListing). An API
   that ignores `sortOrder=desc` is read oldest first from its start instead (everything again: duplicates,
   no loss). IDs without a second are read to the bottom.

State is checkpointed after every page, after the page's records (the paginator runs once the retriever
has handed every record of the page on), and is a function of the listing alone: one reader, one order.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.position import NEWEST_FIRST, OLDEST_FIRST, ListingPosition, TopOfListing
from source_events.bem.state import MARGIN_SECONDS, BemState, Position, Recovery
from source_events.common.pages import events_page

LOGGER = logging.getLogger("airbyte")

# A recovery whose own cursor vanishes mid-way starts again from the top, this many times at most.
RECOVERY_RESTARTS = 3


class Step(Enum):
    FORWARD = "oldest first from the saved position"
    CHECK_POSITION = "is the saved position still listed?"
    NEWEST = "the newest event"
    OLDEST = "the oldest event"
    SECOND_OLDEST = "the event after the oldest"
    BACKWARD = "newest first down to the saved second"
    EVERYTHING = "oldest first from the start"
    DONE = "done"


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


class BemReading:
    def __init__(self, saved: BemState, page_size: int, checkpoint: Callable[[], None]) -> None:
        self._page_size = page_size
        self._checkpoint = checkpoint  # emits the stream's state (the cursor's)
        self._lock = threading.RLock()  # a checkpoint, taken under it, reads the state
        self._saved = saved
        self._forward = ListingPosition(OLDEST_FIRST, saved.position, page_size)
        self._skip = frozenset(saved.already_read)
        self._recovery: Recovery | None = saved.recovering
        self._backward: ListingPosition | None = None
        self._top: TopOfListing | None = None
        self._restarts = 0
        self._pages = 0  # pages read by the current step
        self._emit: frozenset[str] = frozenset()  # the IDs of the answer just taken that are emitted
        self._checkpoint_due = False
        self._newest: str | None = None
        if saved.recovering is not None:
            self._start_backward(saved.recovering, resumed=True)
        else:
            self._step = Step.FORWARD
            self.request = Request(OLDEST_FIRST, page_size, saved.starting_after)

    # ---- asked by the manifest's components -------------------------------------------------------------

    def take(self, response: requests.Response) -> None:
        """Take in the answer to the current request: which of its events to emit, and what to ask next."""
        with self._lock:
            events, _ = events_page(response)
            ids = [e.get("eventID") for e in events if isinstance(e.get("eventID"), str)]
            self._emit: frozenset[str] = frozenset()
            self._checkpoint_due = False
            step = {
                Step.FORWARD: self._after_forward_page,
                Step.CHECK_POSITION: self._after_position_check,
                Step.NEWEST: self._after_newest,
                Step.OLDEST: self._after_oldest,
                Step.SECOND_OLDEST: self._after_second_oldest,
                Step.BACKWARD: self._after_backward_page,
                Step.EVERYTHING: self._after_page_of_everything,
            }[self._step]
            step(ids, response.status_code == 200)

    def keep(self, event_id: str) -> bool:
        """Whether a record of the answer just taken is emitted."""
        return event_id in self._emit

    def handed_on(self) -> bool:
        """The answer's records are handed on: checkpoint after them. Whether another request follows."""
        if self._checkpoint_due:
            self._checkpoint()
        return self._step is not Step.DONE

    # ---- the steps --------------------------------------------------------------------------------------

    def _after_forward_page(self, ids: list[str], accepted: bool) -> None:
        first_page = self._pages == 0
        self._pages += 1
        if not accepted:
            return self._position_vanished(f"bem rejected startingAfter={self.request.starting_after}")
        if not ids:
            if first_page and self._forward.starting_after is not None and not self._forward.last_id:
                # an empty answer after the saved position: nothing new, or a position the API no longer knows
                return self._ask(Step.CHECK_POSITION, Request(OLDEST_FIRST, 1, event_ids=self.request.starting_after))
            return self._done()
        if first_page and self._older_than_saved(ids[0]):
            return self._position_vanished(f"bem listed older events after startingAfter={self.request.starting_after}")
        if not self._oldest_first(ids):
            return self._position_vanished(
                f"bem listed an older event after newer ones although asked for oldest first "
                f"(after startingAfter={self.request.starting_after})"
            )
        for event_id in ids:
            self._forward.read(event_id)
        self._emit = frozenset(ids) - self._skip
        self._checkpoint_due = True
        self.request = Request(OLDEST_FIRST, self._page_size, ids[-1])

    def _after_position_check(self, ids: list[str], accepted: bool) -> None:
        if ids:
            return self._done()  # the saved position is listed, and nothing follows it
        self._position_vanished(f"bem no longer lists the saved position {self._forward.starting_after}")

    def _position_vanished(self, why: str) -> None:
        position = self._forward.position
        anchor = position.starting_after or self._forward.last_id
        second = ksuid_seconds(anchor) if anchor else None
        floor = second - MARGIN_SECONDS if second is not None else None
        LOGGER.warning(
            f"Stream bem_events: {why}. Reading newest first down to "
            + (f"{MARGIN_SECONDS} s before that position" if floor is not None else "the oldest event")
            + " to pick up everything listed after it; the sync then continues as usual."
        )
        self._recovery = Recovery(floor_second=floor, skip=position.already_read)
        self._ask(Step.NEWEST, Request(NEWEST_FIRST, 1))

    def _after_newest(self, ids: list[str], accepted: bool) -> None:
        if not ids:  # nothing is listed at all: start afresh next time
            self._forward = ListingPosition(OLDEST_FIRST, Position(), self._page_size)
            self._recovery = None
            return self._done()
        self._newest = ids[0]
        self._ask(Step.OLDEST, Request(OLDEST_FIRST, 1))

    def _after_oldest(self, ids: list[str], accepted: bool) -> None:
        if ids and ids[0] == self._newest:  # one event listed, or `sortOrder` ignored: which?
            return self._ask(Step.SECOND_OLDEST, Request(OLDEST_FIRST, 1, starting_after=ids[0]))
        self._start_backward(self._recovery, resumed=False)

    def _after_second_oldest(self, ids: list[str], accepted: bool) -> None:
        if not ids:
            return self._start_backward(self._recovery, resumed=False)
        LOGGER.warning(
            "Stream bem_events: bem ignores sortOrder=desc (it listed the same event first both ways); reading "
            "the whole listing oldest first instead. Events read before are emitted again."
        )
        self._forward = ListingPosition(OLDEST_FIRST, Position(), self._page_size)
        self._skip = frozenset(self._recovery.skip)
        self._recovery = None
        self._ask(Step.EVERYTHING, Request(OLDEST_FIRST, self._page_size))

    def _start_backward(self, recovery: Recovery, resumed: bool) -> None:
        if not resumed:
            recovery = Recovery(floor_second=recovery.floor_second, skip=recovery.skip)
        self._recovery = recovery
        self._skip = frozenset(recovery.skip)
        self._backward = ListingPosition(NEWEST_FIRST, recovery.position, self._page_size)
        self._top = TopOfListing(recovery.top, self._page_size)
        self._ask(Step.BACKWARD, Request(NEWEST_FIRST, self._page_size, recovery.starting_after))

    def _after_backward_page(self, ids: list[str], accepted: bool) -> None:
        self._pages += 1
        if not accepted:  # the recovery's own position vanished: start again from the top
            self._restarts += 1
            if self._restarts > RECOVERY_RESTARTS:
                raise AirbyteTracedException(
                    message="bem kept rejecting the position of a newest-first read; retry the sync later.",
                    internal_message=f"the recovery's startingAfter was rejected {self._restarts} times",
                    failure_type=FailureType.transient_error,
                )
            return self._start_backward(self._recovery, resumed=False)
        if not ids:
            return self._finish_backward()
        reached_floor = False
        for event_id in ids:
            under_floor = self._under_floor(event_id)
            reached_floor = reached_floor or under_floor
            self._top.read(event_id, under_floor)
            self._backward.read(event_id)
        self._emit = frozenset(i for i in ids if not self._under_floor(i)) - self._skip
        self._checkpoint_due = True
        if reached_floor:
            return self._finish_backward()
        self._recovery = Recovery(
            floor_second=self._recovery.floor_second,
            skip=self._recovery.skip,
            starting_after=self._backward.position.starting_after,
            already_read=self._backward.position.already_read,
            top=self._top.top,
        )
        self.request = Request(NEWEST_FIRST, self._page_size, ids[-1])

    def _finish_backward(self) -> None:
        top = self._top.top
        self._forward = ListingPosition(
            OLDEST_FIRST, Position(starting_after=top.below, already_read=top.above), self._page_size
        )
        if top.eventID is not None:
            self._forward.read(top.eventID)
        self._recovery = None
        self._done()

    def _after_page_of_everything(self, ids: list[str], accepted: bool) -> None:
        if not accepted:
            raise AirbyteTracedException(
                message="bem rejected a position it had just listed while the whole listing was read again; "
                "retry the sync later.",
                internal_message=f"startingAfter={self.request.starting_after} rejected",
                failure_type=FailureType.transient_error,
            )
        if not ids:
            return self._done()
        for event_id in ids:
            self._forward.read(event_id)
        self._emit = frozenset(ids) - self._skip
        self._checkpoint_due = True
        self.request = Request(OLDEST_FIRST, self._page_size, ids[-1])

    # ---- helpers ----------------------------------------------------------------------------------------

    def _ask(self, step: Step, request: Request) -> None:
        self._step, self.request, self._pages = step, request, 0

    def _done(self) -> None:
        self._step = Step.DONE

    def _under_floor(self, event_id: str) -> bool:
        floor = self._recovery.floor_second if self._recovery else None
        second = ksuid_seconds(event_id)
        return floor is not None and second is not None and second < floor

    def _older_than_saved(self, event_id: str) -> bool:
        saved = self._forward.starting_after
        saved_second = ksuid_seconds(saved) if saved else None
        second = ksuid_seconds(event_id)
        return saved_second is not None and second is not None and second < saved_second - MARGIN_SECONDS

    def _oldest_first(self, ids: list[str]) -> bool:
        """Whether the page goes on from what was read, oldest first: no event more than MARGIN_SECONDS older
        than the newest read before it. An API that answers a position it no longer knows with its listing's
        start, or lists newest first, fails this; the recovery then reads what the position missed."""
        furthest = self._forward.furthest_second
        for event_id in ids:
            second = ksuid_seconds(event_id)
            if second is None:
                continue
            if furthest is not None and second < furthest - MARGIN_SECONDS:
                return False
            furthest = second if furthest is None else max(furthest, second)
        return True

    @property
    def state(self) -> BemState:
        with self._lock:
            position = self._forward.position
            return BemState(
                eventID=self._forward.last_id or self._saved.eventID,
                starting_after=position.starting_after,
                already_read=position.already_read,
                recovering=self._recovery if self._step is Step.BACKWARD else None,
            )
