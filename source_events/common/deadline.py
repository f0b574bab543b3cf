"""A whole answer's deadline.

`request_timeout_seconds` is requests' read timeout: it bounds each wait for the next bytes, not the answer. A
body that trickles in, a few bytes within each timeout, was waited for however long it took (adversary review: a
page of 6,743 bytes at a byte a second, about two hours). The CDK's requester takes a connect and a read timeout
only, so the connector wraps the transport adapters of each requester's session (`bound`, on the session
`cdk_contact.session_of` reaches): an answer gets ANSWER_TIMEOUTS times the read timeout in all, from its request to its last
byte; then its connection is shut and the request fails as `AnswerTooSlow`, a timeout the error handler retries
(source_events.common.errors) like any other.

The deadline runs from the request on, headers included (headers that trickle in, or `100 Continue` answers sent
without end, are waited for as long as a body), and whatever the answer does with its connection: one that says
`Connection: close` takes the socket from the connection as its headers arrive (0.5.13 found no socket to shut
then, and waited). So the adapter's connections note, as they send, which request they carry and their socket
(`_WatchedConnection`, through the pool classes of the adapter's pool managers); an adapter that is no
`requests.HTTPAdapter`, or a proxy scheme with pools of its own (SOCKS), keeps the body's deadline only.
"""

import contextlib
import heapq
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

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
        self._watch_connections(request, proxies)
        answer = _Answer()
        watch = _WATCHDOG.watch(time.monotonic() + seconds, answer.shut)
        _SENDING.answer = answer  # the connection that sends it notes its socket there (_WatchedConnection)
        response = None
        try:
            response = answer.response = self._inner.send(
                request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
            response.content  # noqa: B018 - reads the whole body, as a send without `stream` does
        except (requests.RequestException, OSError) as error:
            if not watch.fired:
                raise
            raise _too_slow(seconds, request, response) from error
        finally:
            _SENDING.answer = None
            watch.cancel()
        if watch.fired:  # the last bytes came as the connection was shut: the answer may be cut short
            raise _too_slow(seconds, request, response)
        return response

    def _watch_connections(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None) -> None:
        """The pools of the manager `request` goes through make connections that note their socket."""
        if not isinstance(self._inner, HTTPAdapter):
            return
        proxy = select_proxy(request.url or "", proxies)
        _watch_pools(self._inner.proxy_manager_for(proxy) if proxy else self._inner.poolmanager)

    def close(self) -> None:
        self._inner.close()


def _too_slow(seconds: float, request: requests.PreparedRequest, response: requests.Response | None) -> AnswerTooSlow:
    return AnswerTooSlow(f"the whole answer took longer than {seconds:g} s", request=request, response=response)


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


class _Answer:
    """One request's answer while it comes: the connection carrying it, once that connection sent it, and the
    response, once its headers came."""

    def __init__(self) -> None:
        self.connection: _WatchedConnection | None = None
        self.response: requests.Response | None = None

    def shut(self) -> None:
        """Ends the answer's reading: the blocked read returns at once, and the answer is cut short."""
        sock = getattr(self.connection, "watched_sock", None)
        if sock is None and self.response is not None:  # a connection we could not watch: the body's socket
            sock = getattr(getattr(self.response.raw, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


_SENDING = threading.local()  # .answer: the _Answer a thread is sending


class _WatchedConnection(HTTPConnection):
    """A connection that notes the socket it connected, and, as it sends a request, that it carries that request's
    answer: http.client hands the socket to a response that closes the connection, and leaves `sock` empty."""

    watched_sock: socket.socket | None = None

    def connect(self) -> None:
        super().connect()
        self.watched_sock = self.sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        answer = getattr(_SENDING, "answer", None)
        if answer is not None:
            answer.connection = self
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": (HTTPConnectionPool, _WatchedHTTPPool), "https": (HTTPSConnectionPool, _WatchedHTTPSPool)}


def _watch_pools(manager: PoolManager) -> None:
    """The pools `manager` makes from now on make watched connections (the pools of urllib3's own classes only: a
    SOCKS proxy's pools stay as they are)."""
    classes = manager.pool_classes_by_scheme
    if all(classes.get(scheme) is not plain for scheme, (plain, _) in _WATCHED_POOLS.items()):
        return  # watched already, or pools of another kind
    manager.pool_classes_by_scheme = {
        **classes,
        **{scheme: watched for scheme, (plain, watched) in _WATCHED_POOLS.items() if classes.get(scheme) is plain},
    }


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
