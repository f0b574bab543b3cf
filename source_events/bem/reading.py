"""bem's whole read: two readers in two partitions, oldest first from the saved position
(source_events.bem.forward) and newest first from the top (source_events.bem.backward), until they meet
(source_events.bem.meeting). bem pages one way (each request names an ID of the page before), so a long
read from one end is one round trip per page; from both ends it takes about half as long.

A first sync reads the whole listing from both ends. A later sync resumes oldest first from the saved position
(a lookback before the newest event read, source_events.bem.position) while the newest-first reader comes
down to meet it, no further than the seconds an earlier sync read (its floor). When the oldest-first reader's
position vanishes and nothing lets it read on, the newest-first reader reads down to where it stood; when the
newest-first reader's does, or bem ignores `sortOrder`, the oldest-first reader reads on to the end.

The state (source_events.bem.state) is saved after every page of either reader; once both are done it is a
function of the listing alone: the top the newest-first reader found, and the first ID it read more than the
lookback under it.
"""

import logging
import threading

import requests

from source_events.bem.anchor import Anchoring
from source_events.bem.backward import BackwardRead
from source_events.bem.forward import ForwardRead, Request
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.meeting import Meeting
from source_events.bem.position import LookbackPosition
from source_events.bem.state import MARGIN_SECONDS, BemState, NewestFirst, OldestFirst, Position, Reading
from source_events.common.pages import events_page

LOGGER = logging.getLogger("airbyte")

# the partitions of a sync, each driving one reader
READERS = (Meeting.OLDEST_FIRST, Meeting.NEWEST_FIRST)
# Readers started again after both readers' positions vanished, before the sync fails: each one reads from the top
# (or the start) again, so a listing whose positions keep vanishing costs that many reads of it at most.
MAX_RESTARTS = 8


class PositionsKeptVanishing(Exception):
    """Readers started again MAX_RESTARTS times lost their positions too: the sync fails rather than end with a
    part of the listing no reader read."""


# A partition's listing is taken not to move on (an API that ignores `startingAfter`: every page the same), lest it be
# asked for good, once its answers brought nothing new and either led to the very same request MAX_SAME_REQUEST times,
# or were the very same page more times in a row than a page holds events plus SAME_ANSWER_SPARE (a vanished position
# falls back through each event read before it on its page, each answered from the listing's start). Answers that
# differ are never counted: a reader started again reads pages read before, each a new one (adversary review: 0.5.15's
# first draft counted them, and failed syncs that finish).
MAX_SAME_REQUEST = 2
SAME_ANSWER_SPARE = 3
# Nor may one reader go round in a circle: the same requests answered the same, in the same order, three times over,
# with no ID it was not listed since it last emitted one (bem ignoring `startingAfter` at pages of 2 or 3: "from" the
# first event cut it off, then after the second, its answers alternate, never the same page twice in a row; 0.5.18
# asked without end, adversary review). Not fewer answers without news: a reader may read the listing again from its
# start (a position deleted, answered from the start), and a second's events listed in a new order on each request
# may send it back and forth a while before one answer takes it on; neither repeats itself exactly.
CIRCLE_TURNS = 3
CIRCLE_KEPT = 10_000  # answers without news a circle is looked for among (a circle is a few pages)


class ListingDoesNotMoveOn(Exception):
    """A reader's answers brought nothing new, the same again and again: the sync fails rather than ask without end."""

    def __init__(self, answers: int, request: Request, circling: bool = False) -> None:
        super().__init__(f"{answers} answers without news, the last to {request.query}")
        self.answers = answers
        self.request = request
        self.circling = circling  # the same requests asked in turn, not the same page in a row


class BemReading:
    def __init__(self, saved: BemState, page_size: int, lookback_seconds: int) -> None:
        self._page_size = page_size
        self._lookback = lookback_seconds
        # An event's ID second may lie this far from the listing's order (IDs from clocks off, events listed late:
        # the lookback covers as much), so two events' IDs may lie twice as far apart against it, one minted ahead
        # and one behind: each check comparing two IDs, and each bound taken from one, allows `apart` (0.5.9 allowed
        # one lookback: a skew over half of it read as a vanished position and lost events, adversary review).
        self._apart = 2 * max(MARGIN_SECONDS, lookback_seconds)
        self._saved = saved
        self._lock = threading.Lock()
        # an ID more than `apart` behind a reader's frontier lies in a second it has read whole
        self._meeting = Meeting(zone_seconds=self._apart)
        self._anchoring = Anchoring()  # which ID each request names: careful once bem shows it skips events
        self._restarts = 0
        self._emitted = 0  # events emitted so far: whether a reader started again read anything new
        # where the last reader started again lost its position: (events emitted, the two readers' positions)
        self._restarted_at: tuple[int, str | None, int | None] | None = None
        self._event_ids_ignored = False  # a position check (`eventIDs`) listed another event: it confirms nothing
        self._said_ids_carry_no_time = False
        # partition -> its answers in a row that brought nothing new and were the same page, and those of them that led
        # to the same request; and its last answer
        self._without_news: dict[str, tuple[int, int]] = {}
        self._last_answer: dict[str, list[str]] = {}
        # partition -> the answers its reader had since it last emitted an event: whether it goes round in a circle
        self._circling: dict[str, Circling] = {}
        reading = saved.reading or self._new_reading(saved)
        self._forward = self._forward_from(reading.oldest_first, ceiling=self._ceiling(reading.newest_first))
        self._backward = BackwardRead(
            reading.newest_first, page_size, lookback_seconds, self._apart, self._meeting, self._anchoring
        )
        # which reader each partition drives (a reader started again takes over the partition that found it needed)
        self._driven: dict[str, ForwardRead | BackwardRead] = {
            Meeting.OLDEST_FIRST: self._forward,
            Meeting.NEWEST_FIRST: self._backward,
        }
        if reading.oldest_first.starting_after:
            # a killed sync's oldest-first reader read everything up to where it stood, done or not (the two may have
            # met already: then nothing the resumed oldest-first reader reads lies under the newest-first one)
            self._backward.lower_floor_to(self._under(reading.oldest_first.starting_after))
        #: `totalCount` of a first sync's first answer: how many events it reads, about (an ESTIMATE)
        self.listing_count: int | None = None
        self._first_sync = saved.eventID is None and saved.reading is None
        # where each reader stood once the records of its last answer were handed on: what a state says (a reader's
        # newer position, in a checkpoint the other partition writes, would get ahead of records not yet written)
        self._handed: dict[str, OldestFirst | NewestFirst] = {
            Meeting.OLDEST_FIRST: reading.oldest_first,
            Meeting.NEWEST_FIRST: reading.newest_first,
        }
        self._handed_done = {Meeting.OLDEST_FIRST: self._forward.done, Meeting.NEWEST_FIRST: self._backward.done}
        self._answered_by: dict[str, ForwardRead | BackwardRead] = {}  # each partition's reader that answered last
        # Each answer taken is numbered. A reader leaves to the other the events the other read first (an event is
        # emitted once), so once it did, where it stands may be written only when the other partition has handed on
        # the records of the answers it had taken by then (0.5.11 and before wrote it at once: killed there and
        # resumed, the events left to the other reader, not yet handed on, were lost).
        self._answers_taken = 0
        self._last_taken: dict[str, int] = {}  # partition -> the number of the last answer it took
        self._handing: set[str] = set()  # partitions handing on the records of their last answer
        # partition -> the other partition's answers its reader counts on: up to this number
        self._counts_on: dict[str, int] = {}
        # partition -> where its reader stood once it handed on its last answer, and the answers of the other it
        # counts on: not written yet
        self._unwritten: dict[str, tuple[int, ForwardRead | BackwardRead, OldestFirst | NewestFirst, bool]] = {}

    def _new_reading(self, saved: BemState) -> Reading:
        """Oldest first from the saved position, newest first from the top down to what earlier syncs read."""
        # the newest-first reader need not read the second the oldest-first one starts from, nor under it: that one
        # reads everything after its position, up to the other's settled IDs
        resumed = ksuid_seconds(saved.starting_after) if saved.starting_after else None
        return Reading(
            oldest_first=OldestFirst(
                starting_after=saved.starting_after, newest=saved.eventID, resume_after=saved.starting_after
            ),
            newest_first=NewestFirst(floor_second=resumed + 1 if resumed is not None else None),
        )

    def _forward_from(self, start: OldestFirst, ceiling: int | None) -> ForwardRead:
        """An oldest-first reader reading on after `start.starting_after`, its lookback where `start` says."""
        if start.keeps_its_lookback:
            lookback = Position(starting_after=start.resume_after, newest=start.newest)
        else:  # saved by 0.5.12 or before: from where this sync started, its newest the newer one it knows
            lookback = Position(
                starting_after=self._saved.starting_after, newest=_newer(self._saved.eventID, start.starting_after)
            )
        position = LookbackPosition(lookback, self._lookback, self._page_size)
        forward = ForwardRead(
            position,
            self._page_size,
            self._apart,
            self._meeting,
            after=start.starting_after,
            ceiling_second=ceiling,
            anchoring=self._anchoring,
        )
        if start.done:
            forward.request = None
        return forward

    def _under(self, event_id: str) -> int | None:
        second = ksuid_seconds(event_id)
        return second - self._apart if second is not None else None

    def _ceiling(self, newest_first: NewestFirst) -> int | None:
        """A killed sync's newest-first reader read everything from the top down to its position: the oldest-first
        reader need not read above it (plus what may stray). Only a position under its top says so."""
        stood = ksuid_seconds(newest_first.starting_after) if newest_first.starting_after else None
        top = ksuid_seconds(newest_first.top.eventID) if newest_first.top.eventID else None
        if stood is None or top is None or stood > top:
            return None
        return stood + self._apart

    def request(self, partition: str) -> Request | None:
        """The next request of the reader `partition` drives; None once it is done."""
        with self._lock:
            return self._driven[partition].request

    def take(self, partition: str, response: requests.Response) -> list[str]:
        """The answer to the request of the reader `partition` drives. Returns the IDs whose records to emit (in
        the answer's order)."""
        events, total = events_page(response)
        ids = listed_ids(events)
        with self._lock:
            if self._first_sync and self.listing_count is None and isinstance(total, int):
                self.listing_count = total  # a first sync reads the whole listing: `totalCount` estimates its rows
            reader = self._driven[partition]
            asked = reader.request
            if asked is not None and asked.event_ids and response.status_code == 200 and ids:
                self._event_ids_ignored |= asked.event_ids not in ids
            self._say_if_ids_carry_no_time(ids)
            # an API that reads `startingAfter` as "from" lists the event named first: it was read already. A full
            # page of it alone (pages of one) says nothing of what follows: kept, it asks the same again, and the sync
            # fails saying so (ListingDoesNotMoveOn) rather than end there
            from_it = asked is not None and asked.starting_after is not None and ids[:1] == [asked.starting_after]
            if from_it and (len(ids) > 1 or len(ids) < asked.limit):
                ids = ids[1:]
            role = Meeting.OLDEST_FIRST if isinstance(reader, ForwardRead) else Meeting.NEWEST_FIRST
            left_before = self._meeting.left_to_other(role)
            emitted = reader.take(ids, response.status_code == 200)
            self._note_same_request(partition, asked, ids, emitted)
            self._note_circling(partition, reader, asked, ids, emitted)
            if self._meeting.left_to_other(role) != left_before:  # what it stands on is partly the other's
                other = next(p for p in READERS if p != partition)
                self._counts_on[partition] = self._last_taken.get(other, 0)
            self._emitted += len(emitted)
            # the reader whose records these are, even once another one takes over the partition (just below)
            self._answered_by[partition] = reader
            self._after_a_reader_stopped(partition)
            self._answers_taken += 1
            self._last_taken[partition] = self._answers_taken
            self._handing.add(partition)
            return emitted

    def _say_if_ids_carry_no_time(self, ids: list[str]) -> None:
        if self._said_ids_carry_no_time:
            return
        untimed = next((event_id for event_id in ids if ksuid_seconds(event_id) is None), None)
        if untimed is None:
            return
        self._said_ids_carry_no_time = True
        LOGGER.warning(
            f"Stream bem_events: bem's event IDs carry no time (such as {untimed}; the API reference's are KSUIDs, "
            "which do): `bem.lookback_window_seconds` cannot be kept by ID, so each sync reads again the last "
            f"{self._page_size} events read (a page) instead. An event bem lists later than that, behind events "
            "read, is missed."
        )

    def _note_same_request(self, partition: str, asked: Request | None, ids: list[str], emitted: list[str]) -> None:
        """ListingDoesNotMoveOn once a partition's answers bring nothing new, the same again and again."""
        last, self._last_answer[partition] = self._last_answer.get(partition), ids
        if asked is None or emitted or not ids or ids != last:  # an empty answer is no page of events read
            self._without_news[partition] = (1 if asked is not None and not emitted else 0, 0)
            return
        answers, same = self._without_news.get(partition, (0, 0))
        answers, same = answers + 1, (same + 1 if self._driven[partition].request == asked else 0)
        self._without_news[partition] = (answers, same)
        if same >= MAX_SAME_REQUEST or answers > self._page_size + SAME_ANSWER_SPARE:
            raise ListingDoesNotMoveOn(answers, asked)

    def _note_circling(
        self,
        partition: str,
        reader: ForwardRead | BackwardRead,
        asked: Request | None,
        ids: list[str],
        emitted: list[str],
    ) -> None:
        """ListingDoesNotMoveOn once a reader goes round in a circle (CIRCLE_TURNS)."""
        circling = self._circling.get(partition)
        if emitted or circling is None or circling.reader is not reader:  # news, or a reader started again
            circling = self._circling[partition] = Circling(reader)
        if emitted or asked is None or not ids:
            return
        if circling.went_round((asked, tuple(ids))):
            raise ListingDoesNotMoveOn(len(circling.answers), asked, circling=True)

    def handed_on(self, partition: str) -> bool:
        """The records of the last answer of the reader `partition` drives were handed on: a state may say where
        that reader stands once the other partition has handed on the answers it counts on. Whether what the state
        says changed (a checkpoint is due)."""
        with self._lock:
            self._handing.discard(partition)
            counts_on = self._counts_on.get(partition, 0)
            # the reader that answered: a reader started again in its partition has handed on nothing yet, and the one
            # it replaced must still say it is done (0.5.9 asked the new one: the state stayed `reading` for good)
            reader = self._answered_by.get(partition, self._driven[partition])
            if reader is self._forward:
                stands: OldestFirst | NewestFirst = OldestFirst(
                    starting_after=reader.resumes_after,
                    done=reader.covered,
                    newest=reader.position.newest,
                    resume_after=reader.position.resume_after,
                )
                self._unwritten[partition] = (counts_on, reader, stands, reader.done)
            elif reader is self._backward:
                self._unwritten[partition] = (counts_on, reader, reader.saved, reader.done)
            return any([self._write(waiting) for waiting in list(self._unwritten)])

    def _write(self, partition: str) -> bool:
        """What `partition` handed on last goes into the state, unless the other partition still hands on an answer
        its reader counts on. Whether the state changed."""
        counts_on, reader, stands, done = self._unwritten[partition]
        if any(self._last_taken[other] <= counts_on for other in self._handing - {partition}):
            return False  # the other may still hold records of events this reader left to it
        del self._unwritten[partition]
        if reader is not self._forward and reader is not self._backward:
            return False  # a reader another one replaced: what it read counts no more
        role = Meeting.OLDEST_FIRST if reader is self._forward else Meeting.NEWEST_FIRST
        changed = stands != self._handed[role] or done != self._handed_done[role]
        self._handed[role], self._handed_done[role] = stands, done
        return changed

    def _after_a_reader_stopped(self, partition: str) -> None:
        """When the oldest-first reader's position vanished, the newest-first reader reads down to where it stood; if
        that one has stopped without reading its part (its own position vanished, or bem ignores `sortOrder`), a
        reader starts again in this partition: newest first from the top down to there, or, when bem lists one
        way only, oldest first from the listing's start (everything again: duplicates, never a gap). As often as a
        reader started again loses its position too, up to MAX_RESTARTS: then the sync fails (0.5.6 started one once,
        and ended with what the second lost unread, exit 0)."""
        forward, backward = self._forward, self._backward
        if not forward.vanished:
            return
        if not backward.done:
            backward.read_down_to(forward.read_under)  # it reads down to where the oldest-first reader stood
            return
        if backward.covered and not (
            backward.stopped_at_floor and (forward.read_under is None or backward.floor > forward.read_under)
        ):
            return  # it read down to the oldest-first reader, to the bottom, or past where that one stood
        if backward.gave_up and self._read_down_past(backward.after, forward.read_under):
            return  # it lost its position under where the oldest-first reader stood: between them, nothing unread
        where = (self._emitted, backward.after, forward.read_under)
        if self._event_ids_ignored and self._restarted_at == where:
            # the reader started again lost its position where the one before did, having read nothing new, on a
            # position check bem answered without filtering: the check, not the listing, failed, and another start
            # would repeat it. What both readers read is what bem lists (0.5.6's behaviour).
            LOGGER.warning(
                "Stream bem_events: a reader started again lost its position where the one before did; bem's "
                "position check does not confirm positions it lists (it ignores `eventIDs`?)."
            )
            return
        self._restarted_at = where
        self._restarts += 1
        if self._restarts > MAX_RESTARTS:
            raise PositionsKeptVanishing(f"{MAX_RESTARTS} readers started again lost their positions too")
        if backward.ignores_sort_order:
            LOGGER.warning("Stream bem_events: reading the listing oldest first from its start again.")
            start_again = OldestFirst(newest=self._saved.eventID, resume_after=None)  # from the listing's start
            self._forward = self._driven[partition] = self._forward_from(start_again, ceiling=None)
        else:
            LOGGER.warning("Stream bem_events: reading newest first again from the top, down to the lost position.")
            start = NewestFirst(floor_second=forward.read_under)
            self._backward = BackwardRead(
                start, self._page_size, self._lookback, self._apart, self._meeting, self._anchoring
            )
            self._backward.read_down_to(forward.read_under)
            self._driven[partition] = self._backward

    def _read_down_past(self, position: str | None, read_under: int | None) -> bool:
        """Whether a newest-first reader that read down to `position` left nothing unread above the second
        `read_under`, under which the oldest-first reader read everything: events a zone above `position` it
        listed before it (an API that ignores `eventIDs` makes a position that was listed look vanished)."""
        second = ksuid_seconds(position) if position else None
        return second is not None and read_under is not None and second + self._meeting.zone <= read_under

    @property
    def state(self) -> BemState:
        with self._lock:
            if all(self._handed_done.values()) and self._forward.done and self._backward.done:
                return self._finished()
            return BemState(
                eventID=self._saved.eventID,
                starting_after=self._saved.starting_after,
                # done: it read its whole part (a reader whose position vanished tries it again on resuming)
                reading=Reading(
                    oldest_first=self._handed[Meeting.OLDEST_FIRST], newest_first=self._handed[Meeting.NEWEST_FIRST]
                ),
            )

    def _finished(self) -> BemState:
        """Both readers are done: the next sync resumes the lookback under the newest event read."""
        top = self._backward.top
        position = self._forward.position
        if top.event_id is None or (position.newest_second or -1) > (top.second or -1):
            newest, newest_second = position.newest, position.newest_second  # the newest-first reader read nothing
        else:
            newest, newest_second = top.event_id, top.second
        resume = top.below if top.below is not None else position.resume_for(newest_second)
        # the newest ID read, else the last sync's; a position alone (nothing read, and no newest saved): that ID
        return BemState(eventID=newest or self._saved.eventID or resume, starting_after=resume)


class Circling:
    """The answers one reader had since it last emitted an event, and the IDs they listed (BemReading._note_circling)."""

    def __init__(self, reader: ForwardRead | BackwardRead) -> None:
        self.reader = reader
        self._listed: set[str] = set()
        self.answers: list[tuple[Request, tuple[str, ...]]] = []  # in a row, none listing an ID not listed before
        self._at: dict[tuple[Request, tuple[str, ...]], list[int]] = {}  # answer -> where in `answers`

    def went_round(self, answer: tuple[Request, tuple[str, ...]]) -> bool:
        """Whether `answer` (a request and its IDs) ends the same answers CIRCLE_TURNS times over."""
        if not set(answer[1]) <= self._listed or len(self.answers) >= CIRCLE_KEPT:
            # news of a kind, or a long way without emitting (the other reader's events, a listing read again):
            # a circle lies within the answers after it
            self._listed = set(answer[1]) if len(self._listed) > CIRCLE_KEPT * 10 else self._listed | set(answer[1])
            self.answers, self._at = [], {}
            return False
        self._at.setdefault(answer, []).append(len(self.answers))
        self.answers.append(answer)
        end = len(self.answers)
        for before in self._at[answer][:-1]:
            turn = end - 1 - before
            if end >= CIRCLE_TURNS * turn and all(
                self.answers[end - t * turn - 1 - i] == self.answers[end - 1 - i]
                for t in range(1, CIRCLE_TURNS)
                for i in range(turn)
            ):
                return True
        return False


def listed_ids(events: list) -> list[str]:
    """The IDs of an answer's events, in its order (an event without one is no event: EventsErrorHandler)."""
    return [e["eventID"] for e in events if isinstance(e, dict) and isinstance(e.get("eventID"), str)]


def _newer(one: str | None, other: str | None) -> str | None:
    """Of two real IDs, the one of the later second (either, when a second is unknown)."""
    if one is None or other is None:
        return one or other
    return other if (ksuid_seconds(other) or 0) > (ksuid_seconds(one) or 0) else one
