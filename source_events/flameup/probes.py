"""What Flameup's cursor asks before it reads windows, through the stream's retriever (its auth, error handling
and API budget): the sync's first look at its range, which settles the page size, and the window planner's
"does this range hold more than n events?"."""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from source_events.common.pages import events_page
from source_events.flameup.listing import event_ids
from source_events.flameup.retriever import FlameupRetriever
from source_events.flameup.windows import ProbeAnswer, window_events, window_slice

# How far the planner's probe at n asks again, where offsets past a listing's end may answer its last page: at
# FAR_OFFSET times n + 1
FAR_OFFSET = 10


class FirstLook(Enum):
    EMPTY = "the range lists no event"
    ONE_PAGE = "the range fits in one page, as far as the data shows"
    MORE = "the range holds more than a page"


@dataclass(frozen=True)
class Look:
    found: FirstLook
    total: int | None  # the answer's `total`: an estimate of the range's events, never a reason to stop


class FlameupProbes:
    def __init__(self, retriever: FlameupRetriever) -> None:
        self._retriever = retriever
        self._page_sizes = retriever.page_sizes
        # asked by the first look, for the planner's first question
        self._answered: dict[tuple[datetime, datetime, int], ProbeAnswer] = {}
        self._clamping_ruled_out = False  # a probe's check far past n was answered empty

    def first_look(self, lower: datetime, upper: datetime) -> Look:
        """The sync's first request: the range's first page at the page size to use, which settles that size
        (a refused `limit` is asked again smaller) and shows a cap below it. It decides only how the range is
        planned, never what is read: every window is read until an empty page.

        A page shorter than asked is Flameup's cap or the range's end; an event after it tells them apart. When
        `total` says the range holds more than a window, that event is asked where a window of such pages ends:
        it then answers the planner's first question too ("more than a window?"), and saves its request. A
        `total` that overstates costs nothing more, unless the range fits in the first page (one request).

        The first page is kept (`FlameupRetriever.first_look`): a range read as one window asks the very same
        first, and takes it instead of asking again.
        """
        events, total = self._retriever.first_look(window_slice(lower, upper))
        found = FirstLook.EMPTY if not events else FirstLook.MORE
        if events and len(events) < self._page_sizes.limit:
            window_end = window_events(len(events))
            beyond_a_window = (
                total is not None and total > window_end and self._probe_for_planner(lower, upper, window_end)
            )
            if not beyond_a_window:
                after, _ = self._retriever.ask_events(window_slice(lower, upper), offset=len(events), limit=1)
                found = FirstLook.MORE if after else FirstLook.ONE_PAGE  # more: fewer than asked is Flameup's cap
        self._page_sizes.received(len(events), followed_by_more=found is FirstLook.MORE)
        self._page_sizes.tell()
        return Look(found, total)

    def holds_more_than(self, lower: datetime, upper: datetime, n: int) -> ProbeAnswer:
        """Whether [lower, upper) holds more than n events: one `limit=1` request at `offset=n` returns an event
        only if there is an (n+1)-th. With the answer's `total`, a hint for the window planner."""
        answered = self._answered.pop((lower, upper, n), None)
        if answered is not None:
            return answered
        window = window_slice(lower, upper)
        events, total = events_page(self._retriever.ask(window, offset=n, limit=1))
        # `total` saying more than n too leaves no clamp to look for, until a listing shows one
        suspect = not self._clamping_ruled_out and (total is None or total <= n)
        if events and (suspect or self._retriever.offsets_clamped):
            # An offset past a range's end may answer its last event (offsets clamped, as page-number paginators
            # do): the very same event far past n too says n was past the end (or held the last event: a window
            # one event larger than planned). An empty answer there rules clamping out for the sync's probes.
            far, _ = events_page(self._retriever.ask(window, offset=FAR_OFFSET * (n + 1), limit=1))
            if not far:
                self._clamping_ruled_out = True
            elif event_ids(far) == event_ids(events):
                self._retriever.saw_offsets_clamped()
                return ProbeAnswer(holds_more=False, total=total)
        self._retriever.served(n, len(events))
        return ProbeAnswer(holds_more=bool(events), total=total)

    def _probe_for_planner(self, lower: datetime, upper: datetime, n: int) -> bool:
        """The first look's probe at n, kept for the planner's first question."""
        answer = self.holds_more_than(lower, upper, n)
        self._answered[(lower, upper, n)] = answer
        return answer.holds_more
