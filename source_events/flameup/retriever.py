"""Flameup's retriever: reads one window's listing with the manifest's requester and record selector.

The CDK's paginator cannot say how this listing is read (source_events.flameup.listing: each request after a
full page overlaps the last event read, steps back when the listing moved, ends only on an empty page at a
confirmed position), so this retriever sends the requests a WindowListing asks for and hands on the records
it keeps. It is also the one place that asks Flameup for a page of a time range (`ask`): the cursor's first
look and the window planner's checks go through it, with the same auth, error handling and API budget.
"""

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass
from datetime import datetime, timezone
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.common.errors import UserFacingError, said_plainly
from source_events.common.pages import events_page
from source_events.common.timestamps import parse_timestamp
from source_events.flameup.depth import FIELDS, SINCE_WIDENING, UNTIL_WIDENING, Beyond, ReadSoFar, ServedDepth
from source_events.flameup.errors import refusal_message
from source_events.flameup.in_flight import WindowsInFlight
from source_events.flameup.listing import (
    ListingChangedTooOften,
    ListingEvidence,
    ListingGoesInCircles,
    Step,
    TieTooLongToRead,
    WindowListing,
    event_ids,
    shows_the_clamp,
    tied_at_end,
    tied_at_start,
)
from source_events.flameup.page_size import PageSize
from source_events.flameup.seen import SeenEvents
from source_events.flameup.windows import BoundaryClaims, window_slice

LOGGER = logging.getLogger("airbyte")

# Times a window's whole range is read again because what lies beyond its listing's end spans all of it
MAX_WHOLE_AGAIN = 2
# Pages (of positions) the check of a listing's end reads past the events read before it reads the rest again
CHECK_PAGES = 3

# A range is read again in two parts (depth.py: sorted by one field, compared on the other) while it spans this at
# least: each part is asked widened by SINCE_WIDENING and UNTIL_WIDENING, so narrower parts ask much the same
CUT_MIN_SPAN = 2 * (SINCE_WIDENING + UNTIL_WIDENING)
# Parts a window's range may be read again in (`_parts_to_read_again`), besides two for each page of events it holds,
# before the sync fails: where offsets past a listing's end answer its last page and a cap empties the page far past
# it that would show so, no part is ever shown ended, and 0.5.17's first version cut a window of 201 events into
# 767 parts, 9,103 requests (adversary review)
MAX_PARTS_READ_AGAIN = 32
# Requests spent at most on finding which time field `since`/`until` compare (`_learn_compared`)
MAX_COMPARED_QUESTIONS = 4

# How many pages past an answer that may be the last page again (an offset past the end, clamped) the request that
# tells asks: well past events that additions before the position moved there
FAR_PAGES = 10

# Requests that may show a listing's end within the depth Flameup served (`_end_within_served_depth`): the first
# answers the event the listing's last request overlapped, if any
END_CONFIRMATIONS = 2

# Refused page sizes asked again smaller before giving up: halving 1000 reaches 1 in 10.
SETTLE_ATTEMPTS = 12


@dataclass
class FlameupRetriever(SimpleRetriever):
    """The manifest's requester (auth, since/until and filters, error handling, the API budget) and record
    selector, driven by a WindowListing per window instead of a paginator.

        retriever:
          type: CustomRetriever
          class_name: source_events.flameup.retriever.FlameupRetriever
          page_size: "{{ config['flameup'].get('page_size') or '' }}"   # '': found at run time
          requester: ...
          record_selector: ...
    """

    page_size: Any = ""
    requests_per_minute: Any = 120
    parameters: InitVar[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        configured = str(InterpolatedString.create(str(self.page_size or ""), parameters=parameters).eval(self.config))
        #: the `limit` to ask for and the cap Flameup serves, shared by the sync's windows
        pace = InterpolatedString.create(str(self.requests_per_minute), parameters=parameters).eval(self.config)
        self.page_sizes = PageSize(int(configured) if configured.strip() not in ("", "None") else None, int(pace))
        #: the windows being read side by side: the cursor admits each, read_records says when it is done
        self.windows_in_flight = WindowsInFlight(int(pace))
        self._evidence = ListingEvidence()
        self._claims = BoundaryClaims()
        self._served = 0  # the largest `limit` Flameup answered
        self._depth = ServedDepth()  # how deep Flameup answered with events
        # the time fields an answer showed `since`/`until` do not compare (depth.ReadSoFar.not_compared)
        self._not_compared: set[str] = set()
        self._compared_questions = 0  # requests spent on finding the field compared
        #: `flameup.start_date`: the sync's whole history starts there (`_prove_end`); the cursor sets it
        self.history_start: datetime | None = None
        # the first look's first page, by its range and `limit`: a range read as one window asks the very same first
        self._first_page: tuple[str, str, int, requests.Response] | None = None

    def ask(self, window: StreamSlice, offset: int, limit: int | None = None) -> requests.Response:
        """One page of `window`'s time range at `offset`, `limit` events (default: the page size). A `limit`
        Flameup refuses (FlameupErrorHandler hands the refusal back) is asked again smaller while the page size is
        the connector's to find. A refusal, deeper in a listing, of a size Flameup served is no page size's fault:
        Flameup serves the listing no deeper than that, and the refusal is returned as the empty answer it is
        (source_events.flameup.depth finds what lies beyond)."""
        for _ in range(SETTLE_ATTEMPTS):
            asked = self.page_sizes.limit if limit is None else limit
            with said_plainly():
                response = self.requester.send_request(
                    stream_slice=window, request_params={"limit": asked, "offset": offset}
                )
            if response is not None and response.status_code == 200:
                self._served = max(self._served, asked)
                return response
            if offset > 0 and asked <= self._served:
                return response  # served no deeper: an answer with no events
            if not self.page_sizes.automatic:
                raise UserFacingError(
                    message=f"Flameup rejected `limit={asked}` ({_message_of(response)}). Lower `flameup.page_size`, "
                    "or leave it unset: the connector then finds the largest page Flameup serves.",
                    failure_type=FailureType.config_error,
                )
            self.page_sizes.refused(asked, _message_of(response))
        raise UserFacingError(
            message="Flameup refused every page size the connector asked for; set `flameup.page_size` to a size "
            "Flameup accepts.",
            internal_message=f"{SETTLE_ATTEMPTS} page sizes refused",
            failure_type=FailureType.config_error,
        )

    def ask_events(self, window: StreamSlice, offset: int, limit: int | None = None) -> tuple[list, int | None]:
        """`ask`'s answer as its events and `total` (a refusal: no events)."""
        events, total = events_page(self.ask(window, offset, limit))
        self._depth.served(offset, len(events))
        return events, total

    def first_look(self, window: StreamSlice) -> tuple[list, int | None]:
        """The first page of the sync's range, kept: a range read as one window takes it as its listing's first page
        (`_read_window`) instead of asking the very same request again."""
        response = self.ask(window, offset=0)
        events, total = events_page(response)
        self._depth.served(0, len(events))
        if response.status_code == 200:
            self._first_page = (window["start_time"], window["end_time"], self.page_sizes.limit, response)
        return events, total

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None) -> Iterable[Any]:
        try:
            yield from self._read_window(records_schema, stream_slice)
        except Exception:
            # the sync fails: a later window's state could not move past this one, so none is started
            self.windows_in_flight.close()
            raise
        finally:
            self.windows_in_flight.done((stream_slice["start_time"], stream_slice["end_time"]))

    def _read_window(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice) -> Iterable[Any]:
        claims = self._claims.of_window(stream_slice["start_time"], stream_slice["end_time"])
        seen = SeenEvents()  # every event this window's listings returned
        parts, whole_again = [stream_slice], 0
        # parts read again afresh (_parts_to_read_again): a listing of their own, the window's events not emitted again
        read_again: list[StreamSlice] = []
        first_page = self._first_page_of(stream_slice)
        while parts:
            part = parts.pop()
            asked = (parse_timestamp(part["start_time"]), parse_timestamp(part["end_time"]))
            afresh = any(part is again for again in read_again)
            read = ReadSoFar(first_of_window=afresh or not len(seen), asked=asked)
            listed = SeenEvents() if afresh else seen  # the events this listing counts as read
            listing = WindowListing(self.page_sizes, self._evidence, listed)
            emitted = seen if afresh else None
            yield from self._read_listing(records_schema, part, listing, read, claims, first_page, emitted)
            first_page = None  # a listing read again reads what changed since
            self._not_compared |= read.not_compared
            self._end_within_served_depth(part, read, listed)
            self._prove_end(read, asked[0])
            again = self._parts_to_read_again(part, read)
            if again:
                if len(read_again) >= MAX_PARTS_READ_AGAIN + 2 * len(seen) // self.page_sizes.full:
                    raise _parts_not_shown_ended(stream_slice, len(read_again))
                read_again += again
                parts += again
                continue
            if part is not stream_slice and not read.count and read.refused:
                raise _cannot_read_deeper(part, len(seen))  # it holds events not read, and refused to serve them
            for beyond in self._unread_parts(part, read, seen):
                if (beyond["start_time"], beyond["end_time"]) == (part["start_time"], part["end_time"]):
                    # events added meanwhile, or a range the API serves no deeper than it did: read again, twice at most
                    whole_again += 1
                    if whole_again > MAX_WHOLE_AGAIN:
                        raise _cannot_read_deeper(part, len(seen))
                parts.append(beyond)

    def _read_listing(
        self,
        records_schema: Mapping[str, Any],
        part: StreamSlice,
        listing: WindowListing,
        read: ReadSoFar,
        claims: Any,
        first_page: requests.Response | None = None,
        emitted: SeenEvents | None = None,
    ) -> Iterable[Record]:
        """One listing of the window's time range `part`, to an empty page; `first_page`: the answer to its first
        request, if the sync's first look asked the very same. `emitted`: for a listing read afresh (its own
        `listing` events), the window's events, which it does not emit again."""
        last_read = None  # the last event of the page before: the tie the next request overlaps
        set_aside: list = []  # the page the listing set aside (Step.RECHECK)
        while not listing.done:
            asked_at = listing.offset
            response = first_page if first_page is not None else self.ask(part, asked_at)
            first_page = None
            answered = time.monotonic()
            if response.status_code != 200:  # served no deeper (`ask`): what lies beyond is checked by time
                read.page_deep = read.refused = True
                read.ended_at = (asked_at, self.page_sizes.limit)
                listing.served_no_deeper()
                return
            events, _ = events_page(response)
            # after the position, only events read: additions before it moved them there, or the last page again
            clamped = (
                listing.step is Step.AFTER
                and bool(events)
                and listing.seen.all_known(event_ids(events))
                and self._past_the_end(part, asked_at, events, listing.seen)
            )
            if clamped:
                events = []  # the empty page it stands for: the listing ends once its position is confirmed
            self._depth.served(asked_at, len(events))
            if not events:
                read.ended_at = (asked_at, self.page_sizes.limit)
            # a full page deep, not a full page: pages filtered after cutting are seldom full (depth.py)
            read.page_deep |= asked_at + len(events) >= self.page_sizes.full
            try:
                fresh = set(listing.take(event_ids(events), tied_at_end(events), tied_at_start(events, last_read)))
            except TieTooLongToRead as error:
                tie_time = last_read.get("timestamp") if isinstance(last_read, Mapping) else None
                # pages filtered after cutting: positions hold events no page shows, and the tie may fit a page
                why = (
                    "and it filters pages after cutting them (they come back short mid-listing): the events sharing "
                    f"the time {tie_time}"
                    if error.filtered
                    else f"and more of them share the time {tie_time} than a page holds: they"
                )
                raise UserFacingError(
                    message="Flameup lists events that share a time in another order on each request, "
                    f"{why} cannot all be read by offset. Narrow the stream with `flameup.event` or `flameup.user_id`.",
                    internal_message=str(error),
                    failure_type=FailureType.system_error,
                ) from None
            except ListingGoesInCircles as error:
                raise UserFacingError(
                    message="Flameup's listing kept moving under the reader without end: its requests read the same "
                    "events again and again (events that share a time listed in another order on each request, at "
                    "pages too small to show it); nothing was lost so far. Raise `flameup.page_size` if it is set "
                    "low, or narrow the stream with `flameup.event` or `flameup.user_id`.",
                    internal_message=f"window {part['start_time']} - {part['end_time']}: {error}",
                    failure_type=FailureType.system_error,
                ) from None
            except ListingChangedTooOften as error:
                raise UserFacingError(
                    message="Flameup's listing kept changing while a window was read (events deleted or added under "
                    "the reader); nothing was lost so far. Retry the sync.",
                    internal_message=f"window {part['start_time']} - {part['end_time']}: {error}",
                    failure_type=FailureType.transient_error,
                ) from None
            if listing.ended_at_depth:  # an overlapping request answered empty twice where events were read
                read.page_deep = read.refused = True
            if listing.step is Step.RECHECK:  # set aside until the position shows it held
                set_aside = events
            elif listing.placed_set_aside:
                last_read = set_aside[-1]
            elif events and listing.step is not Step.TIE_AGAIN:  # else the page before is asked again
                last_read = events[-1]
            handed_on = 0.0  # seconds the records waited to be taken (a slow destination): not this reader's pace
            records = (
                ()
                if clamped
                else self.record_selector.select_records(
                    response=response, stream_state={}, records_schema=records_schema, stream_slice=part
                )
            )
            for record in records:
                key = record.get("id")
                # an event without an id cannot be told apart from another: emitted (none comes: the error handler
                # retries a page holding one, source_events.common.errors)
                new = not isinstance(key, str) or key in fresh
                read.listed(record, new)
                if not new:
                    continue
                fresh.discard(key)  # an event listed twice in one page is emitted once
                if emitted is not None and isinstance(key, str) and emitted.add([key])[0]:
                    continue  # a listing read afresh: the window emitted it before
                if claims.first_to_claim(record):
                    handing = time.monotonic()
                    yield record if isinstance(record, Record) else Record(record, self.name, part)
                    handed_on += time.monotonic() - handing
            # requests' `elapsed`: from sending the request to its answer's headers, the pace's waits left out
            self.windows_in_flight.cycle(response.elapsed.total_seconds() + time.monotonic() - answered - handed_on)

    def _past_the_end(self, part: StreamSlice, asked_at: int, events: list, seen: SeenEvents) -> bool:
        """Whether `events`, answered at `asked_at` and all read before, are the listing's last page answered again
        for an offset past its end (as page-number paginators clamp it: `FlameupBehaviour.past_the_end`). There no
        empty page ever comes, and 0.5.15 paged on for hours (adversary review of 0.5.14: 20,956 requests in 60 s
        for 100 events). Events added before the position also move read ones past it: a page FAR_PAGES further on
        tells, answering the very same page only where offsets are clamped. That answer is no listing's page: it is
        neither read nor taken as Flameup serving that deep."""
        far = asked_at + FAR_PAGES * max(self.page_sizes.full, len(events))
        answered, _ = events_page(self.ask(part, far))
        if not shows_the_clamp(events, answered, seen):
            return False
        self.saw_offsets_clamped()
        return True

    def saw_offsets_clamped(self) -> None:
        self._evidence.saw_offsets_clamped()

    def served(self, offset: int, events: int) -> None:
        """An answer of `events` events at `offset` that was no clamped last page (ServedDepth)."""
        self._depth.served(offset, events)

    @property
    def offsets_clamped(self) -> bool:
        """Whether a listing showed that Flameup answers an offset past its end with its last page (`_past_the_end`)."""
        return self._evidence.offsets_clamped

    def _first_page_of(self, window: StreamSlice) -> requests.Response | None:
        """The first look's first page, if it answered the very request `window`'s listing asks first (taken once)."""
        kept, self._first_page = self._first_page, None
        if kept is None or kept[:3] != (window["start_time"], window["end_time"], self.page_sizes.limit):
            return None
        return kept[3]

    def _ended_for_sure(self, read: ReadSoFar) -> bool:
        """Whether the listing's empty page is its end: Flameup answered deeper in this sync (depth.py)."""
        return bool(read.ended_at and not read.refused and self._depth.ends_there(*read.ended_at))

    def _end_within_served_depth(self, part: StreamSlice, read: ReadSoFar, listed: SeenEvents) -> None:
        """A listing that ended, on an empty answer or a refusal, at an offset no deeper than Flameup answered events in
        this sync is asked again there for no more than those answers reached, past the events it read (its last
        request overlapped one): no cap on the offset or on `offset + limit` can empty or refuse that request
        (ServedDepth), so an empty answer shows the end. An event not read there shows that Flameup stopped serving the
        listing early, as a cap on `offset + limit` does with the page that crosses it however short the listing (a cap
        of 60 at pages of 50 lost 78 of 195 events with exit code 0 before 0.5.17), and what lies beyond is checked
        (`page_deep`), as it is when END_CONFIRMATIONS requests answer only events read, or the next one would ask deeper
        than anything answered."""
        if not read.ended_at or self._ended_for_sure(read) or self.offsets_clamped:
            return  # clamped: no empty page comes, the page far past the end showed it (_past_the_end)
        offset = read.ended_at[0]
        if offset <= 0 or not self._depth.ends_there(offset, 1):
            return  # at the start (an empty range), or deeper than anything answered: nothing can show more here
        for _ in range(END_CONFIRMATIONS):
            limit = min(self._depth.reach - offset, self.page_sizes.limit)
            if limit < 1 or not self._depth.ends_there(offset, limit):
                break
            response = self.ask(part, offset, limit=limit)
            ids = event_ids(events_page(response)[0]) if response.status_code == 200 else []
            self._depth.served(offset, len(ids))
            if response.status_code == 200 and not ids:
                read.page_deep = read.refused = False  # the end: nothing lies past it
                return
            if response.status_code != 200 or not listed.all_known(ids):
                break
            offset += len(ids)
        read.page_deep = True

    def _prove_end(self, read: ReadSoFar, part_start: datetime) -> None:
        """A listing's empty page deeper than Flameup answered so far in this sync may be a depth it serves no deeper
        than, or the end. The sync's whole history, from `start_date`, holds at least as many events: the very same
        request (`offset`, `limit`) asked of it and answered with events shows that no cap emptied that page, however
        Flameup caps (the offset, or the offset plus the limit; emptied, cut or refused), so the listing has ended
        (ServedDepth). One request for each listing deeper than any before: a few a sync (windows read side by side). A
        history that holds no more events than that, or a cap, answers empty: nothing is shown. Not asked where the
        part starts at the history's start (a first sync's first window): its answer would be the listing's own."""
        if not read.page_deep or read.refused or not read.ended_at or self._ended_for_sure(read):
            return
        if self.offsets_clamped:
            return  # no empty page comes where offsets are clamped: the page far past the end showed it (_past_the_end)
        if self.history_start is None or part_start <= self.history_start:
            return  # the history holds no events before this part's: its answer would be the listing's own
        offset, limit = read.ended_at
        history = window_slice(self.history_start, datetime.now(timezone.utc))
        events, _ = self.ask_events(history, offset=offset, limit=limit)
        if events:
            # no cap emptied the very same request: the listing's empty answer is its end. (Taken as served as far as
            # it asked, a cap that cuts pages short would have seemed deeper than it is, for every listing after.)
            read.page_deep = False

    def _parts_to_read_again(self, part: StreamSlice, read: ReadSoFar) -> list[StreamSlice]:
        """`part`'s range in two parts, each to be read as a listing of its own, where its listing ended where
        Flameup may have stopped serving it, and did not go one way by the field `since`/`until` compare: what a
        depth hid then lies anywhere in the range, and only narrower ranges, each listed to its end, reach it
        (depth.py). The events read again are not emitted again (`seen`)."""
        if not read.page_deep or self._ended_for_sure(read):
            return []
        for key, times in read.telling:
            self._learn_compared(key, times)
        if read.sorted_by_compared(self._not_compared):
            return []
        start, end = parse_timestamp(part["start_time"]), parse_timestamp(part["end_time"])
        if end - start < CUT_MIN_SPAN:
            return []  # as narrow as a range is asked: the check beyond its end (docs/exactness.md, Known limits)
        LOGGER.info(
            f"Stream flameup_events: the listing of {part['start_time']} - {part['end_time']} ended where Flameup may "
            "stop serving it, and is not sorted by the time its range compares: reading the range again in two parts."
        )
        # cut by the events read (a history from long before its events: the time's middle would leave them all on
        # one side, read again and again); else the time's middle
        middle = read.cut(self._not_compared)
        if middle is None or not start + CUT_MIN_SPAN / 2 <= middle <= end - CUT_MIN_SPAN / 2:
            middle = start + (end - start) / 2
        return [window_slice(middle, end), window_slice(start, middle)]  # the earlier part first (`parts.pop`)

    def _learn_compared(self, key: str, times: Mapping[str, Any]) -> None:
        """Which time field `since`/`until` compare, from an event whose two times lie far apart (depth.TELLING_GAP):
        a range around one of them leaves the other well outside, so the event listed there shows the other is not
        compared. Only a listing counts: an event not listed may be hidden, or deleted meanwhile."""
        for field in FIELDS:
            if self._not_compared or self._compared_questions >= MAX_COMPARED_QUESTIONS:
                return
            self._compared_questions += 1
            events, _ = self.ask_events(window_slice(times[field], times[field] + SINCE_WIDENING), offset=0)
            if key in event_ids(events):
                self._not_compared.update(other for other in FIELDS if other != field)

    def _unread_parts(self, part: StreamSlice, read: ReadSoFar, seen: SeenEvents) -> list[StreamSlice]:
        """The parts of `part`'s time range beyond the events its listing read that hold events it did not read
        (source_events.flameup.depth): each is read as a listing of its own."""
        if self._ended_for_sure(read):
            return []  # Flameup answered deeper in this sync: the empty page is the end (depth.py)
        start, end = parse_timestamp(part["start_time"]), parse_timestamp(part["end_time"])
        unread = []
        for beyond in read.beyond(start, end):
            window = window_slice(beyond.lower, beyond.upper)
            holds_unread = self._holds_unread(window, beyond, seen)
            if holds_unread is None and beyond.past is not None:
                # an end that may be a depth, reached by the events read in the seconds at the edge: those seconds
                # may hold more than Flameup serves (docs/exactness.md); what lies past them is read
                window = window_slice(beyond.past.lower, beyond.past.upper)
                holds_unread = self._holds_unread(window, beyond.past, seen)
            if not holds_unread:
                continue  # everything beyond was read: the listing ended there
            LOGGER.warning(
                f"Stream flameup_events: the listing of {part['start_time']} - {part['end_time']} ended before events "
                "of its range (Flameup stopped serving it, or they arrived meanwhile); reading them on their own."
            )
            unread.append(window)
        return unread

    def _holds_unread(self, window: StreamSlice, beyond: Beyond, seen: SeenEvents) -> bool | None:
        """Whether `window` (the part `beyond`) lists an event not read, past the `read_in_it` events read that it
        certainly lists first. Pages on while it answers events read, to an empty page: through those it may list
        (`read_at_most`, how many depends on how Flameup compares), then CHECK_PAGES pages' positions at most (then: it
        may). A refusal (served no deeper) says it may. An empty page says it does not, where Flameup answered events
        as deep in this sync (`_ends_at`); deeper, it cannot tell (None)."""
        read_in_it = beyond.read_in_it
        # From the events read it lists first, less the last one (an event read deleted since the listing ended moves
        # the unread ones up one: an answer that starts with an unread event shows it) and less the edge event's tie
        # (listed in another order, an unread one of it may come before the offset)
        offset = start = min(max(read_in_it - 1, 0), beyond.read_before_edge_tie)
        # Bounded by position, not by pages: pages filtered after cutting (hidden events) hold fewer events than the
        # positions they span, and the offset moves by the events a page held (at least one a page: it ends)
        read_there = max(beyond.read_at_most, read_in_it)
        if self._evidence.short_pages_mid_listing:
            # hidden events hold positions among those read: as many again (a share up to half) are paged through
            read_there *= 2
        reach = most = read_there + CHECK_PAGES * self.page_sizes.full
        answered: set[str] = set()
        while offset < reach:
            response = self.ask(window, offset)
            if response.status_code != 200:
                return True  # served no deeper than what was read: what follows is unknown
            events = events_page(response)[0]
            ids = event_ids(events)
            if (
                ids
                and seen.all_known(ids)
                and self.offsets_clamped
                and self._past_the_end(window, offset, events, seen)
            ):
                return False  # its last page again, past its end: every page before it was read, nothing unread
            self._depth.served(offset, len(ids))
            if not seen.all_known(ids):
                return True
            if not ids and offset == start > 0:
                # the event it overlaps is gone: events read were deleted, the rest moved up; from the start, once
                offset = start = 0
                continue
            if not ids:  # only an empty page ends it, as it ends a listing
                return False if self._ends_at(window, offset) else None
            # an event answered again at a deeper offset: positions held by hidden events (at pages of one, each
            # answers the next visible event); one position more for each, up to twice the bound
            reach = min(reach + sum(key in answered for key in ids), 2 * most)
            answered.update(ids)
            offset += len(ids)
        return True

    def _ends_at(self, window: StreamSlice, offset: int) -> bool:
        """Whether `window`'s empty answer at `offset` is its end, not a depth Flameup serves no deeper than. Evidence:
        Flameup answered events this deep in this sync, asking as far (ServedDepth); or as deep only, and the same
        offset asked for one event is empty too (a cap on `offset + limit` cannot empty that one)."""
        if self._depth.ends_there(offset, self.page_sizes.limit):
            return True
        if not self._depth.ends_there(offset, 1):
            return False  # nothing was served this deep: the depth may lie here
        response = self.ask(window, offset, limit=1)
        return response.status_code == 200 and not events_page(response)[0]


def _cannot_read_deeper(part: StreamSlice, read: int) -> UserFacingError:
    return UserFacingError(
        message="Flameup stops serving a listing after a number of events, and a second or two around "
        f"{part['start_time']} hold more than that: they cannot all be read. Narrow the stream with "
        "`flameup.event` or `flameup.user_id`.",
        internal_message=f"{read} events read in {part['start_time']} - {part['end_time']}",
        failure_type=FailureType.system_error,
    )


def _parts_not_shown_ended(window: StreamSlice, parts: int) -> UserFacingError:
    return UserFacingError(
        message="Flameup stops serving a listing after a number of events, and the window "
        f"{window['start_time']} - {window['end_time']} read again in {parts} parts did not show where each one ends "
        "(offsets past a listing's end may be answered with its last page): it cannot be read exactly. Narrow the "
        "stream with `flameup.event` or `flameup.user_id`.",
        failure_type=FailureType.system_error,
    )


def _message_of(response: requests.Response | None) -> str:
    return refusal_message(response) if response is not None else ""
