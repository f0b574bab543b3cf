"""A whole answer's deadline.

`request_timeout_seconds` is requests' read timeout: it bounds each wait for the next bytes, not the answer. A
body that trickles in, a few bytes within each timeout, was waited for however long it took (adversary review: a
page of 6,743 bytes at a byte a second, about two hours). The CDK's requester takes a connect and a read timeout
only, so the connector wraps the transport adapters of each requester's session (`bound`, on the session
`cdk_contact.session_of` reaches): an answer gets ANSWER_TIMEOUTS times the read timeout in all, from its request to its last
byte; then its connection is shut and the request fails as `AnswerTooSlow`, a timeout the error handler retries
(source_events.common.errors) like any other.
"""

import contextlib
import heapq
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter

# An answer's whole time, in read timeouts: at the default 60 s, five minutes for one page (a page of 1,000 events,
# ~1 MB, takes seconds even at 100 KB/s)
ANSWER_TIMEOUTS = 5


class AnswerTooSlow(requests.exceptions.ReadTimeout):
    """The answer's bytes kept coming, each within the read timeout, but the whole took longer than its deadline."""


class WholeAnswerDeadline(BaseAdapter):
    """Sends through `inner` (the adapter the CDK mounted: its pool and keepalive settings stay), reading the body
    within the deadline."""

    def __init__(self, inner: BaseAdapter) -> None:
        super().__init__()
        self._inner = inner

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        seconds = answer_seconds(timeout)
        if stream or seconds is None:
            return self._inner.send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        began = time.monotonic()
        response = self._inner.send(request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        watch = _WATCHDOG.watch(began + seconds, lambda: _shut_connection(response))
        try:
            response.content  # noqa: B018 - reads the whole body, as a send without `stream` does
        except (requests.RequestException, OSError) as error:
            if not watch.fired:
                raise
            raise _too_slow(seconds, response) from error
        finally:
            watch.cancel()
        if watch.fired:  # the last bytes came as the connection was shut: the answer may be cut short
            raise _too_slow(seconds, response)
        return response

    def close(self) -> None:
        self._inner.close()


def _too_slow(seconds: float, response: requests.Response) -> AnswerTooSlow:
    return AnswerTooSlow(
        f"the whole answer took longer than {seconds:g} s", request=response.request, response=response
    )


def answer_seconds(timeout: Any) -> float | None:
    """An answer's whole time for requests' `timeout` (a number, or a (connect, read) pair): None when it has none."""
    read = timeout[1] if isinstance(timeout, tuple) else timeout
    return ANSWER_TIMEOUTS * float(read) if isinstance(read, (int, float)) and read > 0 else None


def bound(session: requests.Session) -> None:
    """Wraps the adapters `session` sends through (once)."""
    for prefix in ("https://", "http://"):
        adapter = session.get_adapter(prefix)
        if not isinstance(adapter, WholeAnswerDeadline):
            session.mount(prefix, WholeAnswerDeadline(adapter))


def _shut_connection(response: requests.Response) -> None:
    """Ends the body's reading: the blocked read returns at once, and the answer is cut short."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Watch:
    def __init__(self, watchdog: "_Watchdog", at: float, act: Callable[[], None]) -> None:
        self._watchdog = watchdog
        self.at: float = at
        self.act: Callable[[], None] | None = act
        self.fired = False

    def cancel(self) -> None:
        self._watchdog.cancel(self)

    def __lt__(self, other: "_Watch") -> bool:
        return self.at < other.at


class _Watchdog:
    """One thread for every answer's deadline, started with the first (a thread an answer would cost ~0.1 ms a
    request)."""

    def __init__(self) -> None:
        self._due: list[_Watch] = []  # a heap, the earliest deadline first
        self._cancelled = 0  # watches in the heap that were cancelled
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, at: float, act: Callable[[], None]) -> _Watch:
        """`act` at `at` (time.monotonic()), unless the watch is cancelled before."""
        watch = _Watch(self, at, act)
        with self._changed:
            heapq.heappush(self._due, watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="answer_deadlines", daemon=True)
                self._thread.start()
            elif self._due[0] is watch:
                self._changed.notify()
        return watch

    def cancel(self, watch: _Watch) -> None:
        """The answer came whole: its watch lets go of the response at once (its deadline is minutes away), and the
        cancelled watches leave the heap once they are most of it."""
        with self._changed:
            if watch.act is None:
                return
            watch.act = None
            self._cancelled += 1
            if self._cancelled > 64 and 2 * self._cancelled > len(self._due):
                self._due = [kept for kept in self._due if kept.act is not None]
                heapq.heapify(self._due)
                self._cancelled = 0

    def _run(self) -> None:
        with self._changed:
            while True:
                while self._due and self._due[0].act is None:
                    heapq.heappop(self._due)
                    self._cancelled -= 1
                now = time.monotonic()
                if self._due and self._due[0].at <= now:
                    watch = heapq.heappop(self._due)
                    act, watch.act, watch.fired = watch.act, None, True
                    if act is not None:
                        act()
                    continue
                self._changed.wait(self._due[0].at - now if self._due else None)


_WATCHDOG = _Watchdog()
