"""The emulator over real HTTP: a threaded server on 127.0.0.1 (ephemeral port by default), its routing and
its control endpoints. Faults are `faults.py`, data changes `changes.py`, the rate limit `rate_limit.py`.

    with EmulatorServer(flameup=FlameupApi(...), bem=BemApi(...)) as server:
        server.flameup_base_url  # http://127.0.0.1:PORT/api/v1
        server.bem_base_url      # http://127.0.0.1:PORT/v1-alpha
        server.faults.append(Fault(kind="rate_limit", at_request=3))                 # by schedule
        server.changes.append(Deletion(at_request=5, api="bem", where="last_served"))  # data changes mid-sync
        server.request_count, server.ground_truth(), server.deleted_keys(), server.received

Two control endpoints serve processes that cannot reach this object: GET /_emulator/truth (the keys of
every event now) and POST /_emulator/append (new events happen now). They are not counted as requests.

Requests are numbered from 1 in the order they arrive, across both APIs, and per API. Faults and changes
name the request number they apply to, so a test can say "the 3rd request gets a 429" or "before bem's
5th request, the event it resumes from is deleted".
"""

import json
import random
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

from source_events.emulator.bem import BemApi
from source_events.emulator.changes import Addition, Change, DataChanges, Deletion, Mutation
from source_events.emulator.faults import Fault, fault_answer, write
from source_events.emulator.flameup import FlameupApi
from source_events.emulator.rate_limit import RateLimit, RateLimiter, rate_limited
from source_events.emulator.responses import ApiResponse
from source_events.manifest import primary_keys

__all__ = ["PRIMARY_KEYS", "Addition", "Deletion", "EmulatorServer", "Fault", "Mutation", "RateLimit"]

# each stream's primary key, as manifest.yaml declares it
PRIMARY_KEYS = primary_keys()

FLAMEUP_PREFIX = "/api/v1"
BEM_PREFIX = "/v1-alpha"


class ReceivedRequest(NamedTuple):
    """One request the server received: its number across both APIs, its API (None: no API's path), the
    server clock when it arrived, its path and its query (each name with every value sent)."""

    number: int
    api: str | None
    at: float
    path: str
    query: dict[str, list[str]]


class _QuietHTTPServer(ThreadingHTTPServer):
    """A client that gives up on an answer (its timeout, a killed sync) is part of what the emulator serves, not an
    error: no traceback for it on stderr."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    def __init__(
        self,
        flameup: FlameupApi | None = None,
        bem: BemApi | None = None,
        port: int = 0,
        latency_seconds: float = 0.0,
        rate_limit: RateLimit | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.flameup = flameup
        self.bem = bem
        self.latency_seconds = latency_seconds
        self.faults: list[Fault] = []
        self.served_faults: list[Fault] = []  # one entry per answer a fault gave: tests assert their fault fired
        # one entry per trickled answer (trickle_*, endless_continue) the client hung up on before it was whole
        self.cut_short: list[Fault] = []
        self.changes: list[Change] = []  # pending data changes (source_events.emulator.changes)
        self.request_count = 0
        self.requests_by_api: dict[str, int] = {"flameup": 0, "bem": 0}
        self.rate_limit = rate_limit  # read on each Flameup request: a test may set it on a running server
        # unix seconds: the rate limit's window, reset times, HTTP-dates and arrival times read it; the APIs
        # keep their own (`api.clock`: retention, listing delay, events added now)
        self.clock = clock
        self.sleep = sleep  # how `latency_seconds` is waited
        self.arrivals: list[tuple[int, str | None, float]] = []  # (request number, api, clock) of every request
        self.received: list[ReceivedRequest] = []  # every request, with its query (testkit.emulator.requests_of)
        self._limiter = RateLimiter()
        self._data = DataChanges()
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # ends every stall at once
        self._httpd = _QuietHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._httpd.daemon_threads = True  # a stalled answer never holds the process
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def flameup_base_url(self) -> str:
        return self.base_url + FLAMEUP_PREFIX

    @property
    def bem_base_url(self) -> str:
        return self.base_url + BEM_PREFIX

    @property
    def mutations(self) -> list[Change]:
        """The pending data changes, by their older name (the same list as `changes`)."""
        return self.changes

    @mutations.setter
    def mutations(self, changes: list[Change]) -> None:
        self.changes = changes

    @property
    def rate_limited(self) -> int:
        """Flameup requests answered 429 by the rate limit (not by a scheduled fault)."""
        return self._limiter.refused

    @property
    def flameup_arrivals(self) -> list[float]:
        """Every Flameup arrival the rate limit accepted, for a benchmark."""
        return self._limiter.accepted_arrivals

    def start(self) -> "EmulatorServer":
        if self.flameup is not None:
            self.flameup.prepare()
        # stop() waits for the serving loop's next look at its stop flag: every 50 ms, not the default 0.5 s,
        # since each test stops the emulator it started
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def ground_truth(self) -> dict[str, set[str]]:
        """The primary keys of every event the keys can list right now, per stream (Flameup: not hidden;
        bem: committed and not expired)."""
        with self._lock:
            return {
                "flameup_events": self.flameup.listed_ids() if self.flameup else set(),
                "bem_events": self.bem.listed_ids() if self.bem else set(),
            }

    def deleted_keys(self) -> dict[str, set[str]]:
        """The primary keys of every event a `Deletion` removed, per stream."""
        with self._lock:
            return {stream: set(keys) for stream, keys in self._data.deleted.items()}

    def added_keys(self) -> dict[str, set[str]]:
        """The primary keys of every event a `Mutation`, an `Addition` or POST /_emulator/append added."""
        with self._lock:
            return {stream: set(keys) for stream, keys in self._data.added.items()}

    def handle(self, path: str, query: dict[str, list[str]], headers: Any) -> tuple[ApiResponse, Fault | None]:
        api = (
            "flameup" if path.startswith(FLAMEUP_PREFIX + "/") else "bem" if path.startswith(BEM_PREFIX + "/") else None
        )
        with self._lock:
            self.request_count += 1
            number, now = self.request_count, self.clock()
            if api:
                self.requests_by_api[api] += 1
            number_of_api = self.requests_by_api[api] if api else 0
            self.arrivals.append((number, api, now))
            self.received.append(ReceivedRequest(number, api, now, path, query))
            self._data.apply_due(self.changes, number, api, number_of_api, {"flameup": self.flameup, "bem": self.bem})
            fault = next((f for f in self.faults if api and f.applies(number, api, number_of_api)), None)
            if fault:
                self.served_faults.append(fault)
                asked = path + ("?" + urlencode(query, doseq=True) if query else "")
                return fault_answer(fault, now, asked), fault
            answer = self._answer(api, path, query, headers, now)
            if api:
                self._data.served(api, answer)
            return answer, None

    def _answer(self, api: str | None, path: str, query: dict[str, list[str]], headers: Any, now: float) -> ApiResponse:
        if api == "flameup" and self.flameup and path.startswith(FLAMEUP_PREFIX + "/workspaces/"):
            allowed, limit_headers = self._limiter.spend(self.rate_limit, now)
            if not allowed:
                return rate_limited(limit_headers)
            answer = self.flameup.list_events(path[len(FLAMEUP_PREFIX) :], query, headers)
            answer.headers.update(limit_headers)
            return answer
        if api == "bem" and self.bem and path == BEM_PREFIX + "/events":
            return self.bem.list_events(path[len(BEM_PREFIX) :], query, headers)
        return ApiResponse(404, {"message": f"no route for {path}"})

    def append_new_events(self, flameup_count: int, bem_count: int, seed: int) -> dict[str, list[str]]:
        """New events happen now, at each API's clock (for a process that cannot reach this object: POST
        /_emulator/append, and the CLI's --add-events-every)."""
        added: dict[str, list[str]] = {"flameup_events": [], "bem_events": []}
        with self._lock:
            for api, target, count in (("flameup", self.flameup, flameup_count), ("bem", self.bem, bem_count)):
                if target is not None and count > 0:
                    # the data's size is part of the seed: the same request twice adds different events
                    rng = random.Random(f"append {api} {seed} {len(target.events)}")
                    added[f"{api}_events"] = self._data.add_now(api, target, count, rng)
        return added


def _handler_class(server: EmulatorServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold some responses for ~40 ms on a kept-alive connection
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if server.latency_seconds:
                server.sleep(server.latency_seconds)
            url = urlsplit(self.path)
            if url.path == "/_emulator/truth":  # control: the keys of every event that exists now
                self._json({stream: sorted(keys) for stream, keys in server.ground_truth().items()})
                return
            answer, fault = server.handle(url.path, parse_qs(url.query, keep_blank_values=True), self.headers)
            if not write(self, answer, fault, server._stopping) and fault is not None:
                server.cut_short.append(fault)

        def do_POST(self) -> None:  # noqa: N802 - control: POST /_emulator/append {"flameup": n, "bem": m, "seed": s}
            if self.path != "/_emulator/append":
                self.send_error(404)
                return
            ask = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self._json(server.append_new_events(ask.get("flameup", 0), ask.get("bem", 0), ask.get("seed", 1)))

        def _json(self, body: Any) -> None:
            write(self, ApiResponse(200, body), None, server._stopping)

        def log_message(self, format: str, *args: Any) -> None:  # keep the protocol's stdout clean
            pass

    return Handler
