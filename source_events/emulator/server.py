"""The emulator over real HTTP: a threaded server on 127.0.0.1 (ephemeral port by default).

    with EmulatorServer(flameup=FlameupApi(...), bem=BemApi(...)) as server:
        server.flameup_base_url  # http://127.0.0.1:PORT/api/v1
        server.bem_base_url      # http://127.0.0.1:PORT/v1-alpha
        server.faults.append(Fault(kind="rate_limit", at_request=3))         # by schedule
        server.mutations.append(Mutation(at_request=5, flameup_events=[...]))  # data changes mid-sync
        server.request_count, server.ground_truth()

Two control endpoints serve processes that cannot reach this object: GET /_emulator/truth (the keys of
every event now) and POST /_emulator/append (new events happen now). They are not counted as requests.

Requests are numbered from 1 in the order they arrive, across both APIs. Faults and mutations name the
request number they apply to, so a test can say "the 3rd request gets a 429" or "after the 5th request,
new and late events appear".
"""

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, Field

from source_events.emulator.bem import BemApi
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.flameup import FlameupApi
from source_events.emulator.responses import ApiResponse
from source_events.manifest import primary_keys

# each stream's primary key, as manifest.yaml declares it
PRIMARY_KEYS = primary_keys()

FLAMEUP_PREFIX = "/api/v1"
BEM_PREFIX = "/v1-alpha"

FaultKind = Literal[
    "rate_limit",  # 429 with Retry-After (and retry-after-ms) and X-RateLimit-* headers saying the key is spent
    "gateway_rate_limit",  # 429 from a proxy or gateway: Retry-After only, no X-RateLimit-* headers
    "server_error",  # 500
    "unavailable",  # 503 with Retry-After
    "request_timeout",  # 408
    "conflict",  # 409
    "drop_connection",  # the connection closes before any response
    "truncated_body",  # a Content-Length longer than the body that arrives
    "html_body",  # 502 with an HTML page, as a proxy sends
    "invalid_json",  # 200 whose JSON is cut short (complete as HTTP)
]


class Fault(BaseModel):
    """Answer requests `at_request` .. `at_request + times - 1` with a fault. With `api`, the requests are
    that API's, counted on their own ("the 3rd bem request"); without, every request counts."""

    kind: FaultKind
    at_request: int = Field(ge=1)
    times: int = Field(1, ge=1)
    api: Literal["flameup", "bem"] | None = None
    retry_after_seconds: float | None = 1.0  # Retry-After, sent with rate_limit, gateway_rate_limit, unavailable
    retry_after_as_date: bool = False  # Retry-After as an HTTP-date (that many seconds from now), not seconds
    retry_after_ms: int | None = None  # retry-after-ms, as bem sends it

    def applies(self, number: int, api: str, number_of_api: int) -> bool:
        if self.api is not None:
            number = number_of_api if self.api == api else 0
        return self.at_request <= number < self.at_request + self.times


class Mutation(BaseModel):
    """Before request `at_request` is answered, these events appear (new ones, or late ones with an
    earlier timestamp or an ID of an earlier second)."""

    at_request: int = Field(ge=1)
    flameup_events: list[dict[str, Any]] = []
    bem_events: list[dict[str, Any]] = []


class RateLimit(BaseModel):
    """Flameup's documented limit (120 requests a minute per key), scalable for a benchmark: at most
    `requests` in any `per_seconds`, counted over a sliding window as they arrive. Requests over it get
    the documented 429; every answer carries X-RateLimit-Limit/Remaining/Reset (unix seconds)."""

    requests: int = Field(120, ge=1)
    per_seconds: float = Field(60.0, gt=0)


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
        self.mutations: list[Mutation] = []
        self.request_count = 0
        self.requests_by_api: dict[str, int] = {"flameup": 0, "bem": 0}
        self.rate_limit = rate_limit
        self.clock = clock  # unix seconds: the rate limit's window, reset times and arrival times read it
        self.sleep = sleep  # how `latency_seconds` is waited
        self.arrivals: list[tuple[int, str | None, float]] = []  # (request number, api, clock) of every request
        self.rate_limited = 0  # Flameup requests answered 429 by the rate limit (not by a scheduled fault)
        self._flameup_accepted: deque[float] = deque()  # arrival times inside the rate limit's window
        self.flameup_arrivals: list[float] = []  # every accepted arrival while rate limited, for a benchmark
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
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

    def start(self) -> "EmulatorServer":
        if self.flameup is not None:
            self.flameup.prepare()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def ground_truth(self) -> dict[str, set[str]]:
        """The primary keys of every event that exists right now (bem: not expired), per stream."""
        with self._lock:
            return {
                "flameup_events": {e["id"] for e in self.flameup.events} if self.flameup else set(),
                "bem_events": self.bem.listed_ids() if self.bem else set(),
            }

    def handle(self, path: str, query: Any, headers: Any) -> "tuple[ApiResponse, Fault | None]":
        api = (
            "flameup" if path.startswith(FLAMEUP_PREFIX + "/") else "bem" if path.startswith(BEM_PREFIX + "/") else None
        )
        with self._lock:
            self.request_count += 1
            number = self.request_count
            if api:
                self.requests_by_api[api] += 1
            self.arrivals.append((number, api, self.clock()))
            self._apply_mutations(number)
            fault = next((f for f in self.faults if api and f.applies(number, api, self.requests_by_api[api])), None)
            if fault:
                self.served_faults.append(fault)
                return _fault_response(fault, self.clock()), fault
            if api == "flameup" and self.flameup and path.startswith(FLAMEUP_PREFIX + "/workspaces/"):
                allowed, limit_headers = self._spend_rate_limit()
                if not allowed:
                    self.rate_limited += 1
                    return _rate_limited(limit_headers), None
                answer = self.flameup.list_events(path[len(FLAMEUP_PREFIX) :], query, headers)
                answer.headers.update(limit_headers)
                return answer, None
            if api == "bem" and self.bem and path == BEM_PREFIX + "/events":
                return self.bem.list_events(path[len(BEM_PREFIX) :], query, headers), None
        return ApiResponse(404, {"message": f"no route for {path}"}), None

    def _spend_rate_limit(self) -> tuple[bool, dict[str, str]]:
        """Count a Flameup request against the rate limit: whether it is allowed, and the X-RateLimit headers."""
        if self.rate_limit is None:
            return True, {}
        now = self.clock()
        window = self._flameup_accepted
        while window and window[0] <= now - self.rate_limit.per_seconds:
            window.popleft()
        allowed = len(window) < self.rate_limit.requests
        if allowed:
            window.append(now)
            self.flameup_arrivals.append(now)
        reset = (window[0] if window else now) + self.rate_limit.per_seconds
        return allowed, {
            "X-RateLimit-Limit": str(self.rate_limit.requests),
            "X-RateLimit-Remaining": str(self.rate_limit.requests - len(window)),
            "X-RateLimit-Reset": str(int(reset) + 1),
        }

    def append_new_events(self, flameup_count: int, bem_count: int, seed: int) -> dict[str, list[str]]:
        """New events happen now (for a process that cannot reach this object: POST /_emulator/append)."""
        now = datetime.now(timezone.utc)
        with self._lock:
            added_flameup = (
                flameup_events(flameup_count, now - timedelta(minutes=5), now, self.flameup.workspace_id, seed=seed)
                if self.flameup
                else []
            )
            added_bem = bem_events(bem_count, now - timedelta(seconds=1), now, seed=seed) if self.bem else []
            if self.flameup:
                self.flameup.events.extend(added_flameup)
            if self.bem:
                self.bem.events.extend(added_bem)
        return {"flameup_events": [e["id"] for e in added_flameup], "bem_events": [e["eventID"] for e in added_bem]}

    def _apply_mutations(self, number: int) -> None:
        for mutation in [m for m in self.mutations if m.at_request <= number]:
            if self.flameup:
                self.flameup.events.extend(mutation.flameup_events)
            if self.bem:
                self.bem.events.extend(mutation.bem_events)
            self.mutations.remove(mutation)

    def _handler_class(self) -> type:
        server = self

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
                response, fault = server.handle(url.path, parse_qs(url.query, keep_blank_values=True), self.headers)
                if fault and fault.kind == "drop_connection":
                    self.close_connection = True
                    return
                if fault and fault.kind == "html_body":
                    payload, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
                else:
                    payload, content_type = json.dumps(response.body).encode(), "application/json"
                if fault and fault.kind == "invalid_json":
                    payload = payload[: len(payload) // 2]
                self.send_response(response.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if fault and fault.kind == "truncated_body":
                    self.wfile.write(payload[: len(payload) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802 - control: POST /_emulator/append {"flameup": n, "bem": m, "seed": s}
                if self.path != "/_emulator/append":
                    self.send_error(404)
                    return
                ask = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                self._json(server.append_new_events(ask.get("flameup", 0), ask.get("bem", 0), ask.get("seed", 1)))

            def _json(self, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # keep the protocol's stdout clean
                pass

        return Handler


def _rate_limited(headers: dict[str, str]) -> ApiResponse:
    return ApiResponse(
        429, {"error": "Rate limit exceeded", "message": "Too many requests. Please try again later."}, headers
    )


def _fault_response(fault: Fault, now: float) -> ApiResponse:
    retry_after = {}
    if fault.retry_after_seconds is not None:
        retry_after["Retry-After"] = (
            formatdate(now + fault.retry_after_seconds, usegmt=True)
            if fault.retry_after_as_date
            else f"{fault.retry_after_seconds:g}"
        )
    if fault.retry_after_ms is not None:
        retry_after["retry-after-ms"] = str(fault.retry_after_ms)
    if fault.kind == "gateway_rate_limit":
        return ApiResponse(429, {"message": "Too Many Requests"}, retry_after)
    if fault.kind == "rate_limit":
        reset = int(now + (fault.retry_after_seconds or 60))
        headers = {
            **retry_after,
            "X-RateLimit-Limit": "120",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        }
        return _rate_limited(headers)
    if fault.kind == "server_error":
        return ApiResponse(500, {"error": {"code": "internal", "message": "Internal server error"}})
    if fault.kind == "unavailable":
        return ApiResponse(503, {"error": {"code": "unavailable", "message": "Service unavailable"}}, retry_after)
    if fault.kind == "request_timeout":
        return ApiResponse(408, {"message": "Request timed out"})
    if fault.kind == "conflict":
        return ApiResponse(409, {"message": "Conflict, please retry"})
    if fault.kind == "html_body":
        return ApiResponse(502, None)
    # drop_connection, truncated_body, invalid_json: a normal-looking body that never arrives whole
    return ApiResponse(200, {"events": [{"id": "never-delivered"}] * 20, "total": 10**6})
