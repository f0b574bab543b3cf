"""bem's newest-first reader: from the top of the listing down, until it meets the oldest-first reader
(source_events.bem.meeting), reaches its floor (the second the oldest-first reader started from), or the
listing's bottom.

- Before its first page it checks that the API honours `sortOrder`: it asks for the SORT_CHECK_EVENTS oldest
  events (oldest first). A first page "newest first" that starts with one of them but the newest of them (the
  oldest, or the next ones when those were deleted in between), or that goes up in time, means the API ignores
  it: this reader then reads nothing, and the oldest-first reader reads on alone. (0.5.9 compared the first event
  alone: with the oldest deleted between the two requests, this reader read the listing upward, "met" the
  oldest-first reader at its start and ended it there.)
- Its first page is the top of the listing. When a later sync's backlog spans no more than four zones (the
  seconds both readers read where they meet), this reader leaves it to the oldest-first one: two readers would
  not read it faster. It emits nothing.
- Its position can vanish like the other reader's (a 400, an empty page that its confirmation shows was not the
  bottom, an answer from the top again): it falls back on the ID read before it on the same page; once none is
  left it stops, and the oldest-first reader reads up until it meets what this one read.
- It remembers where it started (TopOfListing): the next sync resumes from the first ID it read more than the
  lookback under the top.
"""

import logging

from source_events.bem.anchor import Anchoring, further_back
from source_events.bem.forward import NEWEST_FIRST, OLDEST_FIRST, Request, seconds_of
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.meeting import Meeting
from source_events.bem.position import TopOfListing
from source_events.bem.state import NewestFirst, Top

LOGGER = logging.getLogger("airbyte")

# The sort-order check's events: a listing's first page that starts with one of the oldest of them ignored
# `sortOrder` (however many of those were deleted before it came, short of all but one).
SORT_CHECK_EVENTS = 10


class BackwardRead:
    def __init__(
        self,
        start: NewestFirst,
        page_size: int,
        lookback_seconds: int,
        apart_seconds: int,
        meeting: Meeting,
        anchoring: Anchoring | None = None,
    ) -> None:
        self._page_size = page_size
        self._anchoring = anchoring or Anchoring()  # shared with the oldest-first reader
        self._apart = apart_seconds
        self._meeting = meeting
        self.floor = start.floor_second
        self.after = start.starting_after
        self.top = TopOfListing(start.top.eventID, start.top.below, lookback_seconds, page_size)
        self._page: set[str] = set()
        self._trail: list[str] = []
        self.met = False
        self.gave_up = False  # its position vanished: the oldest-first reader reads up to what it read
        self.ignores_sort_order = False
        self.not_needed = False  # the backlog lies within its first page: the oldest-first reader reads it
        self.stopped_at_floor = False
        self.alone = False  # the oldest-first reader stopped: this one reads its part, however short
        self._oldest: list[str] = []  # the sort-order check's answer: the oldest events, oldest first
        self._step = "page"
        if start.done:
            self.request: Request | None = None
        elif self.after is None:  # a new read from the top: first, does the API honour sortOrder?
            self._step, self.request = "oldest", Request(OLDEST_FIRST, SORT_CHECK_EVENTS)
        else:
            self.request = Request(NEWEST_FIRST, page_size, self.after)

    @property
    def done(self) -> bool:
        return self.request is None

    @property
    def covered(self) -> bool:
        """Whether it read its whole part: down to the other reader, its floor, or the bottom (not when it left its
        part to the oldest-first reader)."""
        if self.met and self.top.event_id is None:
            return False  # it met the other on its first answer, having read nothing: it vouches for nothing
        return self.done and not self.gave_up and not self.ignores_sort_order and not self.not_needed

    def take(self, ids: list[str], accepted: bool) -> list[str]:
        step, self._step = self._step, "page"
        if step == "top":
            return self._after_top(ids)
        if step == "oldest":
            return self._after_oldest(ids)
        if step == "confirm":
            if accepted and self.after in ids:
                self.request = None  # the position is listed and nothing lies under it: the bottom
                self._meeting.reached_the_end(Meeting.NEWEST_FIRST)
            else:
                self._fall_back(f"bem no longer lists {self.after}")
            return []
        if not accepted:
            self._fall_back(f"bem rejected startingAfter={self.after} (newest first)")
            return []
        if not ids:
            if self.after is None:
                self.request = None
                self._meeting.reached_the_end(Meeting.NEWEST_FIRST)
            else:
                self._step, self.request = "confirm", Request(NEWEST_FIRST, 1, event_ids=self.after)
            return []
        if self._goes_up(ids):
            self._fall_back(f"bem listed newer events after startingAfter={self.after} (newest first)")
            return []
        return self._read(ids)

    def _after_oldest(self, ids: list[str]) -> list[str]:
        if not ids:
            self.request = None  # nothing listed at all
            return []
        self._oldest = ids
        self._step, self.request = "top", Request(NEWEST_FIRST, self._page_size)
        return []

    def _after_top(self, ids: list[str]) -> list[str]:
        if not ids:
            self.request = None
            return []
        seconds = seconds_of(ids)
        going_up = len(seconds) > 1 and seconds[-1] - seconds[0] > self._apart
        if self._starts_among_the_oldest(ids) or going_up:
            LOGGER.warning(
                "Stream bem_events: bem ignores sortOrder=desc (its first page newest first starts with the oldest "
                "events); reading the listing oldest first only."
            )
            self.ignores_sort_order, self.request = True, None
            return []
        if (
            not self.alone
            and self.floor is not None
            and seconds
            and max(seconds) - self.floor <= 4 * self._meeting.zone
        ):
            # a backlog this short is read by two readers no faster than by one: both would read the seconds they
            # meet in (`zone` either side), which is most of it
            self.not_needed, self.request = True, None
            return []
        return self._read(ids)

    def _starts_among_the_oldest(self, ids: list[str]) -> bool:
        """Whether a first page newest first starts where the listing starts. A listing holding more than the sort
        check's events starts newest first with none of them; else (it held only those) with their newest."""
        if len(self._oldest) == SORT_CHECK_EVENTS:
            return ids[0] in self._oldest[:-1]
        return ids[0] == self._oldest[0] and len(ids) > 1

    def _read(self, ids: list[str]) -> list[str]:
        self._anchoring.note_order(ids, newest_first=True)
        again = self._anchoring.recovery(self._trail, self.after, ids)
        if again is not None:  # bem skipped events after the ID named: none of this answer is taken, asked again
            LOGGER.info(
                f"Stream bem_events: bem skipped events after startingAfter={self.after} (newest first); asking again."
            )
            self.after, self.request = again, Request(NEWEST_FIRST, self._page_size, again)
            return []
        fresh = [event_id for event_id in ids if event_id not in self._page]
        above = [event_id for event_id in fresh if not self._under_floor(event_id)]
        emit, met_at = self._meeting.arrive(Meeting.NEWEST_FIRST, above)
        read = above if met_at is None else above[:met_at]
        for event_id in read:
            self.top.read(event_id)
        self.met = met_at is not None
        reached_floor = len(above) < len(fresh)
        if reached_floor:
            self.stopped_at_floor = True
            self._meeting.passed(Meeting.NEWEST_FIRST, [e for e in fresh if e not in set(above)])
        # where it stands: before the page's last second (source_events.bem.anchor), or, once it stopped, the last
        # event it read
        stopped = self.met or reached_floor
        self._page, self._trail = set(ids), ids
        self.after = self._anchoring.resume_after(ids) if not stopped else (read[-1] if read else self.after)
        self.request = None if stopped else Request(NEWEST_FIRST, self._page_size, self.after)
        return emit

    def lower_floor_to(self, second: int | None) -> None:
        """The oldest-first reader stopped where its position vanished: everything under `second` it read."""
        if second is not None and (self.floor is None or second > self.floor):
            self.floor = second

    def read_down_to(self, second: int | None) -> None:
        """The oldest-first reader stopped where its position vanished (everything under `second` it read): this
        reader reads down to there, and leaves nothing to it, however short the backlog."""
        self.floor, self.alone = second, True

    def _fall_back(self, why: str) -> None:
        earlier = self._trail[: self._trail.index(self.after)] if self.after in self._trail else []
        if earlier:
            LOGGER.info(f"Stream bem_events: {why}; resuming after the event read before it.")
            self._trail, self.after = earlier, earlier[-1]
            self.request = Request(NEWEST_FIRST, self._page_size, self.after)
            return
        LOGGER.warning(f"Stream bem_events: {why}; the oldest-first reader reads on up to what was read from the top.")
        self.gave_up, self.request = True, None

    def _under_floor(self, event_id: str) -> bool:
        second = ksuid_seconds(event_id)
        return self.floor is not None and second is not None and second < self.floor

    def _goes_up(self, ids: list[str]) -> bool:
        """Whether a page lists an event further above the position than events may stray: the API answered a
        position it no longer knows with the top of its listing."""
        position = ksuid_seconds(self.after) if self.after else None
        seconds = seconds_of(ids)
        return position is not None and bool(seconds) and max(seconds) > position + self._apart

    @property
    def saved(self) -> NewestFirst:
        return NewestFirst(
            starting_after=further_back(self._trail, self.after),
            done=self.covered,
            top=Top(eventID=self.top.event_id, below=self.top.below),
            floor_second=self.floor,
        )
