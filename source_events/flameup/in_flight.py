"""How many of Flameup's windows are read side by side.

A window checkpoints once it and every window before it were read (source_events.flameup.cursor), so a sync
killed while n windows are being read repeats up to n windows. Side by side reading buys speed only where one
reader cannot spend the pace: a reader sends its next request once it has handled the last answer, so it keeps
up with `requests_per_minute` while a round trip and its handling take less than 60 / requests_per_minute
seconds (0.5 s at 120 a minute). So the windows are read one at a time while one reader keeps the pace, and a
killed sync repeats at most the window it was reading; when round trips are slower than that, a window starts
beside the others while fewer are being read than the readers the pace needs (requests a second x a reader's
cycle, with HEADROOM; the manifest's `concurrency_level` bounds the readers there are). Measured, never
assumed: a reader's cycle is the median of its latest requests' round trips (`response.elapsed`, which leaves
out the pace's own waits) plus its handling of each answer, not the time its records wait to be taken (a slow
destination, which more readers would not outpace).
"""

import math
import statistics
import threading
from collections import deque
from collections.abc import Callable

# Readers the pace needs are counted with this much to spare: a cycle's noise would otherwise leave it unspent.
HEADROOM = 1.25
# A reader's cycle is the median of its last few: one stalled request (a retry, a slow answer) opens no window.
CYCLES_KEPT = 9
# A window waits at most this long for the ones being read (each request has a timeout and bounded retries, so
# they end, and a sync that stops reading says so: `close`); past it, it starts beside them.
LONGEST_WAIT_SECONDS = 600.0


class SyncEnded(Exception):
    """The sync stopped reading while a window waited to start: it is not started."""


class WindowsInFlight:
    """The windows being read: the cursor admits each before handing it out, its reader says when it is done."""

    def __init__(self, requests_per_minute: int, wait: Callable[..., bool] | None = None) -> None:
        self._per_second = max(requests_per_minute, 1) / 60
        self._condition = threading.Condition()
        self._wait = wait or self._condition.wait_for
        self._reading: set[tuple[str, str]] = set()
        self._cycles: deque[float] = deque(maxlen=CYCLES_KEPT)  # seconds a reader took its latest requests
        self._closed = False

    def cycle(self, seconds: float) -> None:
        """One request's round trip and the handling of its answer took `seconds`."""
        with self._condition:
            before = self.allowed
            self._cycles.append(seconds)
            if self.allowed > before:
                self._condition.notify_all()

    @property
    def allowed(self) -> int:
        """How many windows may be read side by side: the readers the pace needs, one while one keeps it."""
        if not self._cycles:
            return 1
        return max(math.ceil(self._per_second * statistics.median(self._cycles) * HEADROOM), 1)

    @property
    def reading(self) -> int:
        return len(self._reading)

    def admit(self, window: tuple[str, str]) -> None:
        """Waits until `window` may be read beside the others, then counts it as being read."""
        with self._condition:
            self._wait(lambda: self._closed or len(self._reading) < self.allowed, LONGEST_WAIT_SECONDS)
            if self._closed:
                raise SyncEnded(f"window {window[0]} - {window[1]} not started: the sync stopped reading")
            self._reading.add(window)

    def close(self) -> None:
        """The sync stopped reading (it ended, or failed): a window waiting to start never will."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def done(self, window: tuple[str, str]) -> None:
        """`window`'s reader ended (read to its end, or failed). A window never admitted (check's) is ignored."""
        with self._condition:
            if window in self._reading:
                self._reading.discard(window)
                self._condition.notify_all()
