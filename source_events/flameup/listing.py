"""One Flameup window's listing, read by `limit`/`offset`: which request comes next, which events are new, and
when the listing has ended. Pure logic: source_events.flameup.retriever sends the requests.

Offsets count positions in a listing that can change while it is read: an event deleted before the reader's
position moves every later event down one offset, and a reader that advances by the events it received then
skips one still-existing event per deletion. Flameup may also filter a page after cutting it (permissions,
soft-deleted rows), so a page can hold fewer events than the cap although more follow. So:

- **Each request after a full page overlaps the last event read** (offset = position - 1, the anchor). A listing
  sorted by time without a tie-breaker (SQL `ORDER BY timestamp`) may list a tie (the events at a page's end
  sharing its `timestamp` or `created_at`) in another order on each request, and a tie split by a page boundary
  then loses the events that moved behind it. The answer after a page ending in a tie proves its order held when
  it starts with the anchor and every event after it is new: exactly one event of the tie came back twice, so
  the two answers together hold as many of its events as it has positions. Any other answer is set aside and the
  page asked again overlapping the whole tie. Once a tie came back reordered, a listing moved, or a page came back
  short mid-listing (ListingEvidence.ties_doubted), every tie is overlapped whole from the start.
  Asked whole, a tie shorter than a page comes back whole (a longer one cannot: docs/exactness.md). Where
  the anchor shows up in the answer tells whether the listing moved: at the top, it did not; further down,
  events were inserted before it (they are read again, never emitted twice); absent, events before it were
  deleted (or it was): the reader steps back until an answer holds an event it placed, then reads on from there,
  overlapping one more event for each step back in a row (under steady retention a deletion comes between any two
  requests, and an overlap of one would lose its anchor every time).
  An event the answer holds that this window did not emit yet is emitted, wherever it sits. An event is *placed*
  when every event before it was read: an answer that holds no placed event is emitted, but its events anchor
  nothing until one of them is placed (`Unplaced`).
- **Only an empty page ends the listing.** After a page shorter than a full one, the next request asks at the
  position with no overlap: an empty answer ends the listing (the short page, an answer moments before, had
  just confirmed the position). Once a short page in the middle of a listing has been seen (the API filters
  after cutting, `ListingEvidence`), and at pages of one event (every page is full: no short page shows the
  end), an empty answer is trusted only after one more anchored request confirms the position. With pages
  filtered after cutting, a short page too is followed by a request overlapping its last event; only an answer
  holding the overlap alone is followed by one asking past it. An answer with events there (a silent cap,
  events hidden after cutting, or events that arrived) is emitted, and placed only once the events at the
  position, asked again, show it held on both sides of that answer (Step.RECHECK): events deleted before the
  position meanwhile would have made that request skip as many, unseen.
- `total` plays no part: it is no stop signal.

The window's requests ask for a wider time range than the window (source_events.flameup.windows): events near
its ends can also come back in the neighbouring window; the retriever emits each once (BoundaryClaims).
"""

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any

from source_events.common.timestamps import time_of
from source_events.flameup.page_size import PageSize
from source_events.flameup.seen import SeenEvents

LOGGER = logging.getLogger("airbyte")

# Steps back a listing may take to find a position it read before, with no new event read between them, before
# failing the sync: a listing that changes this often under the reader is not read to the end with confidence.
MAX_STEPS_BACK = 24
# Requests in a row that read no new event (steps back, overlaps, rechecks): a bound on any cycle a listing changing
# under the reader could keep it in, so that a sync fails, named, rather than pages forever.
MAX_REQUESTS_WITHOUT_PROGRESS = 8 * MAX_STEPS_BACK
# Requests a listing may send, past MAX_REQUESTS_WITHOUT_PROGRESS, for each new event it read and each position it
# reached: a bound on the cycles that count as progress by placing the same events again and again (at pages of one
# event with ties listed in another order on each request, a tie's events are unplaced and placed on every request,
# and the offsets go round a few positions). Fuzzed syncs that finish (ties reordered, pages filtered after cutting,
# deletions) spent at most 49 such requests, but for a 400-event window with 60 % hidden at pages of 2, which this
# fails (docs/exactness.md); a sync paging for ever spends the API budget of every sync sharing the key.
MAX_REQUESTS_PER_STEP_FORWARD = 64


def tied_at_end(events: Sequence[Any]) -> int:
    """How many events at the end of a page share the last one's time, by `timestamp` or by `created_at` (the
    field the listing is sorted by is undocumented): the tie a request that reads on overlaps whole."""
    if not events:
        return 1
    return max(1, _sharing_the_time_of(events[-1], reversed(events)))


def tied_at_start(events: Sequence[Any], last_read: Any) -> int:
    """How many events at the start of a page share the time of `last_read` (the last event of the page before), by
    either field: how far the tie that page ended in goes on in this one."""
    return _sharing_the_time_of(last_read, iter(events))


def same_page(events: Sequence[Any], other: Sequence[Any]) -> bool:
    """Whether two answers hold the same page: the same events in any order (ties may be listed in another order on
    each request), but for the tie each starts with, of as many events in both. A page cut from a listing whose cut
    falls inside a tie holds other events of that tie each time the tie is reordered: the last page answered for an
    offset past the end (`FlameupBehaviour.past_the_end`) starts where the listing's end less a page falls. A page
    that is one tie whole is compared whole: any page-long stretch of a tie longer than a page would pass."""
    if len(events) != len(other):
        return False
    leading = _sharing_the_time_of(events[0], iter(events)) if events else 0
    if leading != (_sharing_the_time_of(other[0], iter(other)) if other else 0):
        return False
    if leading == len(events):
        leading = 0
    return sorted(event_ids(events[leading:])) == sorted(event_ids(other[leading:])) and (
        not leading or _sharing_the_time_of(events[0], iter(other[:leading])) == leading
    )


def shows_the_clamp(page: Sequence[Any], far: Sequence[Any], seen: SeenEvents) -> bool:
    """Whether `far`, the answer FAR_PAGES past the page `page` (all of it read before) asked right after a listing's
    position, shows offsets past the end answered with the last page again: the same page (`same_page`), and every
    event of it read. One never read there (another event of the tie the page starts with) shows that tie was not read
    whole: it is no end (0.5.19's first fix took it for one, and the event was lost with it; adversary review)."""
    return same_page(page, far) and seen.all_known(event_ids(far))


def event_ids(events: Sequence[Any]) -> list[str]:
    """The IDs of the events of a page (those that have one)."""
    return [event["id"] for event in events if isinstance(event, Mapping) and isinstance(event.get("id"), str)]


def _sharing_the_time_of(event: Any, events: Iterator[Any]) -> int:
    """The longest run from the start of `events` that shares `event`'s `timestamp`, or its `created_at`."""
    if not isinstance(event, Mapping):
        return 0
    runs = {field: time_of(event.get(field)) for field in ("timestamp", "created_at")}
    counts = dict.fromkeys(runs, 0)
    for other in events:
        still = [
            f for f, t in runs.items() if t is not None and isinstance(other, Mapping) and time_of(other.get(f)) == t
        ]
        if not still:
            break
        for field in still:
            counts[field] += 1
        runs = {f: runs[f] for f in still}
    return max(counts.values())


def _new(ids: list[str], known: list[bool]) -> list[str]:
    """The events of an answer not read before, once each."""
    return list(dict.fromkeys(event_id for event_id, read in zip(ids, known, strict=True) if not read))


def _reordered(before: list[str], ids: list[str]) -> bool:
    """Whether events of `before` come back in `ids` in another order. Events deleted or added meanwhile, and
    pages filtered after cutting, move events but keep their order: only a reordered tie changes it. An event
    listed twice in either counts where it is first listed."""
    overlapped = set(before)
    again = list(dict.fromkeys(event_id for event_id in ids if event_id in overlapped))  # an event listed twice: once
    returned = set(again)
    return again != [event_id for event_id in dict.fromkeys(before) if event_id in returned]


class Unplaced:
    """Events of answers that held no placed event (every event before a placed one was read): answers asked
    where the listing had moved, or past a short page with no overlap (Step.AFTER) until it is placed. They were
    emitted, but anchor nothing: a later answer read on from one of them could go on past an event not read yet.

    Each such answer was contiguous when it came: every event that existed throughout and lies between its first
    and its last was in it. So once one of its events is placed, all of them are: those before it lie before a
    placed event, those after it up to its last were in the answer. Answers sharing an event are kept as one."""

    def __init__(self) -> None:
        self._answer_of: dict[str, set[str]] = {}

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._answer_of

    def add(self, ids: list[str]) -> None:
        joined = set(ids)
        for event_id in ids:
            joined |= self._answer_of.get(event_id, set())
        for event_id in joined:
            self._answer_of[event_id] = joined

    def place(self, ids: list[str]) -> bool:
        """The events `ids` are placed: so are the answers holding any of them. Whether any event was unplaced."""
        placed = False
        for event_id in ids:
            for other in self._answer_of.get(event_id, ()):
                del self._answer_of[other]
                placed = True
        return placed


class ListingEvidence:
    """What the sync's listings have shown about the API, shared by its windows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.short_pages_mid_listing = False
        self.ties_reordered = False
        self.listing_moved = False  # a listing moved under its reader (events deleted before its position)
        # an offset past a listing's end answered its last page again (FlameupRetriever._past_the_end)
        self.offsets_clamped = False

    def saw_short_page_mid_listing(self) -> None:
        if self._first_to_see("short_pages_mid_listing"):
            LOGGER.info(
                "Stream flameup_events: Flameup returned a short page in the middle of a listing (it filters pages "
                "after cutting them); every page is now checked against the one before, and a listing ends only on "
                "an empty page at a confirmed position."
            )

    def saw_listing_move(self) -> None:
        self._first_to_see("listing_moved")

    def saw_offsets_clamped(self) -> None:
        if self._first_to_see("offsets_clamped"):
            LOGGER.info(
                "Stream flameup_events: Flameup answers an offset past a listing's end with its last page again (no "
                "empty page ever comes); such an answer, shown by the same page far past it, is now taken for the "
                "empty page it stands for."
            )

    def saw_tie_reordered(self) -> None:
        if self._first_to_see("ties_reordered"):
            LOGGER.info(
                "Stream flameup_events: Flameup listed events that share a time in another order on two requests; "
                "every request after a page ending in such a tie now overlaps the whole tie."
            )

    @property
    def ties_doubted(self) -> bool:
        """Whether an answer overlapping a tie's last event alone can no longer prove the tie's order held: ties came
        back reordered, a listing moved under its reader, or pages are filtered after cutting (offsets then count
        events no answer shows). Each tie is then overlapped whole, which also finds a position a move shifted."""
        with self._lock:
            return self.ties_reordered or self.listing_moved or self.short_pages_mid_listing

    def _first_to_see(self, evidence: str) -> bool:
        """Sets the flag `evidence`; whether this call set it (what it changes is then said once a sync)."""
        with self._lock:
            first = not getattr(self, evidence)
            setattr(self, evidence, True)
        return first


class Step(Enum):
    FIRST = "the listing's first page"
    ANCHORED = "the next page, overlapping the last event read (or the whole tie it ends: ListingEvidence.ties_doubted)"
    TIE_AGAIN = (
        "the next page again, overlapping the whole tie: the answer overlapping its last event left its order in doubt"
    )
    AFTER = "the page after the position, no overlap: empty ends the listing"
    RECHECK = "the events at the position again, after an AFTER answer with events: placed if the position held"
    CONFIRM = "the last event read, to confirm the position before an empty page is trusted"
    STEP_BACK = "an earlier page, to find a position read before"


# the requests that ask again the events at the position (answered empty: those events are gone)
OVERLAPPING = (Step.ANCHORED, Step.TIE_AGAIN, Step.CONFIRM, Step.RECHECK)


class ListingChangedTooOften(Exception):
    """The listing moved under the reader more than MAX_STEPS_BACK times in a row, with no new event read between."""


class ListingGoesInCircles(ListingChangedTooOften):
    """More than MAX_REQUESTS_PER_STEP_FORWARD requests for each new event read and position reached: the reader
    keeps placing the same events again (ties listed in another order on each request, at pages too small to show
    it)."""


class TieTooLongToRead(Exception):
    """A tie filling a whole page came back in another order when overlapped: the API lists ties in another order
    on each request, and a tie longer than a page cannot be read by offset. `filtered`: pages came back filtered
    after cutting too; a tie's hidden events then hold positions, and a tie that fits a page can seem longer."""

    def __init__(self, message: str, filtered: bool = False) -> None:
        super().__init__(message)
        self.filtered = filtered


class WindowListing:
    def __init__(self, page_size: PageSize, evidence: ListingEvidence, seen: SeenEvents | None = None) -> None:
        self._page_size = page_size
        self._evidence = evidence
        self.step: Step | None = Step.FIRST  # of the next request; None once the listing has ended
        self.offset = 0  # of the next request
        self._position = 0  # the offset just after the last event read, in the listing as last seen
        self._last: str | None = None  # the last event read, in listing order
        # the events read: this listing's, and those of the window's listings before it (source_events.flameup.depth)
        self._seen = SeenEvents() if seen is None else seen
        self._previous_page: int | None = None  # the size of the data page before this one, if there was one
        self._tied = 1  # the events at the last page's end sharing its time: what the next request overlaps
        self._tie: list[str] = []  # those events, in the order they were listed
        self._page_long_tie: list[str] = []  # those events, when the tie filled the page (longer than the overlap)
        self._trusting_tie = False  # the request overlaps the last event of a tie alone (ties' order held so far)
        self._back_by = 0
        self._steps_back = 0
        # an answer to Step.AFTER with events: (its offset, its IDs, how many at its end share a time), set aside
        # until Step.RECHECK shows the position held; its events are emitted but anchor nothing meanwhile
        self._set_aside: tuple[int, list[str], int] | None = None
        self._unplaced = Unplaced()
        self._set_aside_in_a_row = 0
        #: the last take placed the answer set aside before it (the last event read is that answer's last)
        self.placed_set_aside = False
        self._empty_overlaps = 0  # requests overlapping a position read that were answered empty
        self._without_progress = 0  # requests since one read a new event or placed one (MAX_REQUESTS_WITHOUT_PROGRESS)
        # every request this listing sent, the new events they read and the furthest position they reached
        # (MAX_REQUESTS_PER_STEP_FORWARD)
        self._requests = self._read = self._furthest = 0
        #: the listing ended where Flameup serves it no deeper (source_events.flameup.depth looks beyond)
        self.ended_at_depth = False

    @property
    def done(self) -> bool:
        return self.step is None

    @property
    def seen(self) -> SeenEvents:
        """The events read: this listing's, and those of the window's listings it shares with."""
        return self._seen

    @property
    def limit(self) -> int:
        return self._page_size.limit

    def take(self, ids: list[str], tied: int = 1, goes_on: int | None = None) -> list[str]:
        """The answer to the request at `self.offset`: the IDs it listed, in order, how many at its end share the
        last one's time (`tied_at_end`), and how many at its start share the time of the last event read
        (`tied_at_start`; None: unknown). Returns the ones to emit (never emitted by this window before) and sets
        the next request, or ends the listing."""
        # how many events of the page before this request asked again, and whether the tie goes on past them
        overlapped = self._position - self.offset if self.step in (Step.ANCHORED, Step.TIE_AGAIN) else 0
        longer = goes_on is None or goes_on > overlapped
        if overlapped and longer and _reordered(self._page_long_tie, ids):
            raise TieTooLongToRead(
                f"a tie of {len(self._page_long_tie)} events filling a page came back reordered",
                filtered=self._evidence.short_pages_mid_listing,
            )
        self.placed_set_aside = False
        self._without_progress += 1
        if self._without_progress > MAX_REQUESTS_WITHOUT_PROGRESS:
            raise ListingChangedTooOften(f"{MAX_REQUESTS_WITHOUT_PROGRESS} requests in a row read no new event")
        self._requests += 1
        self._furthest = max(self._furthest, self._position)
        if self._requests > MAX_REQUESTS_WITHOUT_PROGRESS + MAX_REQUESTS_PER_STEP_FORWARD * (
            self._read + self._furthest
        ):
            raise ListingGoesInCircles(
                f"{self._requests} requests read {self._read} new events and reached position {self._furthest} at "
                f"pages of {self._page_size.full}"
            )
        if self.step is Step.AFTER and ids:
            return self._set_aside_after(ids, tied)
        if self.step is Step.RECHECK:
            aside, self._set_aside = self._set_aside, None
            if aside is not None and self._held(ids):
                return self._place(*aside)
        if self._trusting_tie:
            self._trusting_tie = False
            if not (ids and ids[0] == self._last and not any(self._seen.known(ids[1:]))):
                return self._doubt_the_tie(ids)
        self._note_tie(ids, tied)
        known, fresh = self._add(ids)
        anchor = self._anchor(ids, known)
        step, asked_at = self.step, self.offset
        if step is Step.AFTER:  # empty: the end, once the position is confirmed
            self._ask(Step.CONFIRM) if self._position_unconfirmed else self._end()
        elif step is Step.FIRST or (anchor is None and asked_at == 0):
            # from the listing's start nothing can lie before the answer
            self._end() if not ids else self._read_on(asked_at, ids, fresh)
        elif anchor is None and not ids and step in OVERLAPPING and self._empty_overlaps:
            # empty again after a step back found the listing: Flameup serves no page reaching that deep (a cap on
            # `offset + limit`), or the listing's tail keeps vanishing; either way what lies beyond is read by time
            self.served_no_deeper()
        elif anchor is None:
            self._empty_overlaps += not ids and step in OVERLAPPING
            self._unplaced.add(ids)  # emitted, but where they lie is unknown: they anchor nothing
            self._step_back()
        elif (len(ids) < self._page_size.full or (step is Step.CONFIRM and ids == [self._last])) and (
            anchor == len(ids) - 1 or (not fresh and asked_at + len(ids) <= self._position)
        ):  # confirmed, and nothing follows it (the overlap alone, maybe its tie listed in another order); at pages
            # of one event, the position confirmed on both sides of the empty page
            self._back_by = 0
            if self._unplaced.place(ids):
                self._without_progress = 0
            self._learn(len(ids), followed=bool(fresh))
            self._position, self._last = asked_at + len(ids), ids[-1]
            if step is Step.CONFIRM:
                self._end()
            elif self._evidence.short_pages_mid_listing and self._position - self._overlap(Step.ANCHORED) > asked_at:
                # pages filtered after cutting end short anywhere: read on overlapping, as after a full page (an
                # answer asked past it would need two more requests in a row to place, Step.RECHECK, and a listing
                # moving that often would never be read); the overlap alone comes back at the end
                self._ask(Step.ANCHORED)
            else:
                self._ask(Step.AFTER)
        else:
            self._back_by = 0
            self._read_on(asked_at, ids, fresh, moved_on=step is Step.STEP_BACK or anchor < len(ids) - 1)
        return fresh

    @property
    def _position_unconfirmed(self) -> bool:
        """Whether an empty answer at the position (Step.AFTER) may hide events a deletion before it moved there: no
        short page just showed the listing's end there. Pages filtered after cutting end short anywhere; at pages of
        one event every page is full, and the position was last confirmed a request before."""
        return self._evidence.short_pages_mid_listing or self._page_size.full == 1

    def _note_tie(self, ids: list[str], tied: int) -> None:
        """The tie at the end of the page `ids` (`tied` events share the last one's time): what the next request
        overlaps."""
        # a tie overlapped whole, but for the page's first event: each request reads on by one event at least
        self._tied = max(1, min(tied, len(ids) - 1))
        self._tie = ids[-tied:] if tied > 1 else []
        # a tie filling a whole page may go on past any answer: seen reordered, it cannot be read by offset (a short
        # answer, the listing's end, holds the rest of its tie: the request before it overlapped the tie's start).
        # The next answer's order is checked against all of it, not only the events it overlaps: at pages of 2 the
        # overlap is one event, and only its order against the page's other event can show a reorder.
        full_page = len(ids) >= self._page_size.full
        self._page_long_tie = self._tie if tied > self._tied and full_page else []

    def _set_aside_after(self, ids: list[str], tied: int) -> list[str]:
        """Events past a position that a short page confirmed, asked with no overlap (Step.AFTER). Events deleted
        before the position since that page would have made this request skip as many, unseen: the answer is
        placed only once the events at the position, asked again (Step.RECHECK), show it held. Its events exist:
        they are emitted now, but anchor nothing until placed (a later answer anchored on one of them could read
        on past an event this request skipped)."""
        self._set_aside_in_a_row += 1
        if self._set_aside_in_a_row > MAX_STEPS_BACK:
            raise ListingChangedTooOften(f"the listing moved under the reader {MAX_STEPS_BACK} times in a row")
        _, fresh = self._add(ids)
        self._learn(len(ids), followed=bool(fresh))  # the short page before was followed by more
        self._unplaced.add(ids)
        self._set_aside = (self.offset, ids, tied)
        self.step, self.offset = Step.RECHECK, max(self._position - self._tied, 0)
        return fresh

    def _add(self, ids: list[str]) -> tuple[list[bool], list[str]]:
        """The answer's events join those read: whether each was read before, and the new ones (progress)."""
        known = self._seen.add(ids)
        fresh = _new(ids, known)
        if fresh:
            self._without_progress = 0
            self._read += len(fresh)
        return known, fresh

    def _held(self, ids: list[str]) -> bool:
        """Whether the answer to Step.RECHECK lists the events it asked again (the last event read, or the tie it
        ends) and nothing else: the position held, on both sides of the answer set aside. Deletions alone move
        positions one way, insertions the other: the same position before and after means the same during."""
        overlapped = self._tie[-self._tied :] if self._tie else [self._last]
        return len(ids) == len(overlapped) and set(ids) == set(overlapped)

    def _place(self, asked_at: int, ids: list[str], tied: int) -> list[str]:
        """The answer set aside follows the position: it is read (its events were emitted when it came)."""
        self.placed_set_aside = True
        self._note_tie(ids, tied)
        self._read_on(asked_at, ids, fresh=[], moved_on=True)
        return []

    def _doubt_the_tie(self, ids: list[str]) -> list[str]:
        """The answer to a request overlapping the last event of a tie alone does not prove the tie's order held
        (module docstring): it is set aside, and the page asked again overlapping the whole tie, from the position
        before this answer. Its events lie past the position, where the listing reads them; emitted and taken as
        read, they would let a later step back read on from them, past an event not read yet."""
        if _reordered(self._tie, ids):
            self._evidence.saw_tie_reordered()
        self.step, self.offset = Step.TIE_AGAIN, max(self._position - self._tied, 0)
        return []

    def _anchor(self, ids: list[str], known: list[bool]) -> int | None:
        """Where the answer holds a position read before: the last event read, else the furthest event this
        window read (any of them proves that the answer goes on from a position read)."""
        if self._last in ids:
            return ids.index(self._last)
        read = [index for index, read_before in enumerate(known) if read_before and ids[index] not in self._unplaced]
        return read[-1] if read else None

    def _read_on(self, asked_at: int, ids: list[str], fresh: list[str], moved_on: bool = True) -> None:
        """`moved_on`: the answer holds events past the position it confirmed (or confirmed none)."""
        self._set_aside_in_a_row = 0
        if self._unplaced.place(ids) or fresh:  # the listing read on: its moves are counted again from here
            self._steps_back = self._without_progress = 0
        self._learn(len(ids), followed=bool(fresh))
        self._position, self._last = asked_at + len(ids), ids[-1]
        full = len(ids) >= self._page_size.full
        # A page ending in a tie is overlapped, even when short or holding nothing past the anchor: the tie may go on
        # past the page, and an anchor at the page's end may be its first event, listed in another order this time.
        # A full page that held nothing past the position (a cap of one event: the anchor alone) is not asked again.
        # At pages of one event an overlapping request holds the overlap alone: the next is asked past it (Step.AFTER,
        # and its answer placed by Step.RECHECK).
        anchored = self._page_size.full > 1 and (
            bool(self._tie) or ((full or self._evidence.short_pages_mid_listing) and moved_on)
        )
        self._ask(Step.ANCHORED if anchored else Step.AFTER)

    def _learn(self, size: int, followed: bool) -> None:
        """What a data page shows of the API's pages: a short page followed by more events is the cap (a silent
        one: pages of that size), or a page filtered after it was cut (shorter than pages already received)."""
        previous = self._previous_page
        if previous is not None and followed and previous < self._page_size.limit:
            if previous < self._page_size.largest:
                self._evidence.saw_short_page_mid_listing()
            self._page_size.received(previous, followed_by_more=True)
        self._page_size.received(size)
        self._previous_page = size

    def _step_back(self) -> None:
        """No event of the answer was read before: events before the position were deleted (or the anchor was),
        so the position now lies earlier. Ask further back each time, down to the listing's start."""
        self._evidence.saw_listing_move()
        self._steps_back += 1
        if self._steps_back > MAX_STEPS_BACK:
            raise ListingChangedTooOften(f"the listing moved under the reader {MAX_STEPS_BACK} times in a row")
        self._previous_page = None
        self._back_by = max(self._back_by * 2, self._page_size.full - 1, 1)
        self.step, self.offset = Step.STEP_BACK, max(self.offset - self._back_by, 0)

    def _ask(self, step: Step) -> None:
        self.step = step
        self._trusting_tie = step is Step.ANCHORED and self._tie_trusted
        self.offset = self._position if step is Step.AFTER else max(self._position - self._overlap(step), 0)

    @property
    def _tie_trusted(self) -> bool:
        """Whether the next request overlaps the last event of the tie the page ended in alone (its order held so
        far): its answer then proves the order held, or the page is asked again overlapping the whole tie."""
        return self._tied > 1 and not self._evidence.ties_doubted

    def _overlap(self, step: Step) -> int:
        """How many events read the request `step` asks again."""
        if step is not Step.ANCHORED:
            return 1
        overlap = 1 if self._tie_trusted else self._tied
        if self._steps_back:
            # the listing moved and no event was read since: overlap one more event a step back, so that a deletion
            # just before this request still leaves a placed event in its answer (under steady retention, an overlap
            # of one lost its anchor on every request; a page overlapped at most half over still reads on)
            overlap = max(overlap, min(1 + self._steps_back, self._page_size.full // 2))
        return overlap

    def served_no_deeper(self) -> None:
        """Flameup does not serve the listing this deep: it ends here (source_events.flameup.depth looks beyond)."""
        self.ended_at_depth = True
        self._end()

    def _end(self) -> None:
        self.step = None
