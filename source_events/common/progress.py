"""Progress of a long read, logged per stream every INTERVAL_SECONDS while the stream reads: records read so
far and their rate. A timer logs it, not the records: a read that waits (on the API budget, a retry, a slow
network) still says where it stands on time, and counting a record stays a bare increment."""

import threading
import time
import weakref
from collections.abc import Callable


class ReadProgress:
    INTERVAL_SECONDS = 30.0

    def __init__(
        self,
        stream_name: str,
        log: Callable[[str], None],
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream_name = stream_name
        self._log = log
        self._interval = self.INTERVAL_SECONDS if interval is None else interval
        self._clock = clock
        self._count = 0
        self.estimate: int | None = None  # the rows the stream's sync will read, about (its ESTIMATE)
        self._started: float | None = None
        self._stopped = threading.Event()

    def count(self) -> None:
        self._count += 1

    @property
    def records(self) -> int:
        return self._count

    def start(self) -> None:
        """The stream starts reading: log every interval from now on, until `stop`."""
        if self._started is not None:
            return
        self._started = self._clock()
        # the thread holds the progress weakly: a read abandoned without `stop` ends its timer too
        threading.Thread(
            target=_log_every_interval, args=(weakref.ref(self), self._interval, self._stopped), daemon=True
        ).start()

    def stop(self) -> None:
        self._stopped.set()

    def report(self) -> None:
        elapsed = max(self._clock() - (self._started or self._clock()), 1e-9)
        of_about = f" of about {self.estimate:,}" if self.estimate else ""
        self._log(
            f"Stream {self._stream_name}: {self._count:,}{of_about} records read in {elapsed:,.0f} s "
            f"({self._count / elapsed:,.0f} records/s)"
        )


def _log_every_interval(progress: "weakref.ref[ReadProgress]", interval: float, stopped: threading.Event) -> None:
    while not stopped.wait(interval):
        current = progress()
        if current is None:
            return
        current.report()
        del current
