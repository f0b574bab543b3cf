"""Where a bem sync resumes: a real ID at least the lookback before the newest event read.

bem IDs order by time only to the second, IDs are made by servers whose clocks differ by seconds, and an event
may be listed only once committed, seconds after its ID's second: an event can appear *behind* IDs already
read. So a sync never resumes right after the last ID it read, but after the last ID it read that is more than
`lookback` seconds older than the newest one, and reads again what follows (the destination deduplicates on
`eventID`). A real ID the API listed, never a made-up one: Stripe-style APIs reject unknown cursors.

IDs that carry no second (not KSUIDs) count in pages instead: the sync resumes one page before the last ID.
"""

from collections import deque

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.state import Position


class LookbackPosition:
    """One oldest-first reader's resume point, moved by every event it reads, in the listing's order."""

    def __init__(self, start: Position, lookback_seconds: int, block: int) -> None:
        self.resume_after = start.starting_after
        self.newest = start.newest
        self._lookback = lookback_seconds
        self._block = block  # IDs kept when they carry no second
        self._newest_second = ksuid_seconds(self.newest) if self.newest else None
        # the IDs read after resume_after that are not yet `lookback` older than the newest, in listing order
        self._recent: deque[tuple[str, int | None]] = deque()

    def read(self, event_id: str) -> None:
        second = ksuid_seconds(event_id)
        if second is not None and (self._newest_second is None or second >= self._newest_second):
            self._newest_second, self.newest = second, event_id
        elif second is None and self._newest_second is None:
            self.newest = event_id
        self._recent.append((event_id, second))
        while self._recent and self._behind(self._recent[0][1]):
            self.resume_after = self._recent.popleft()[0]

    def _behind(self, second: int | None) -> bool:
        if second is None or self._newest_second is None:
            return len(self._recent) > self._block
        return second < self._newest_second - self._lookback

    @property
    def newest_second(self) -> int | None:
        return self._newest_second

    def resume_for(self, newest_second: int | None) -> str | None:
        """The resume ID were `newest_second` the newest second read (a reader further up read newer events): the
        last ID this reader read, in its order, such that it and every ID before it lie more than the lookback
        under that second."""
        resume = self.resume_after
        if newest_second is None:
            return resume
        for event_id, second in self._recent:
            if second is None or second >= newest_second - self._lookback:
                break
            resume = event_id
        return resume

    @property
    def position(self) -> Position:
        return Position(starting_after=self.resume_after, newest=self.newest)


class TopOfListing:
    """Where a newest-first reader started, for the position the next sync resumes from: its first event (the
    newest), and `below`, the first real ID it read more than `lookback` seconds under it. Resuming oldest first
    after `below` reads every event created since, and the lookback again."""

    def __init__(self, event_id: str | None, below: str | None, lookback_seconds: int, block: int) -> None:
        self.event_id = event_id
        self.below = below
        self._lookback = lookback_seconds
        self._block = block
        self._second = ksuid_seconds(event_id) if event_id else None
        self._read = 0

    def read(self, event_id: str) -> None:
        if self.event_id is None:
            self.event_id, self._second = event_id, ksuid_seconds(event_id)
        self._read += 1
        if self.below is not None:
            return
        second = ksuid_seconds(event_id)
        if second is None or self._second is None:
            far = self._read > self._block
        else:
            far = second < self._second - self._lookback
        if far:
            self.below = event_id

    @property
    def second(self) -> int | None:
        return self._second
