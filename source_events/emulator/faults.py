"""Faults by schedule, and how every answer goes out on the wire, whole or mangled.

A fault answers a request in place of the API: the API neither sees the request nor changes (no page
served, no `total` counted). Stalls wait on the server's stop event, not a sleep, so stopping the server
ends every stall at once.
"""

import json
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Literal

import orjson
from pydantic import BaseModel, Field

from source_events.emulator.rate_limit import rate_limited
from source_events.emulator.responses import ApiResponse

FaultKind = Literal[
    "rate_limit",  # 429 with Retry-After (and retry-after-ms) and X-RateLimit-* headers saying the key is spent
    "gateway_rate_limit",  # 429 from a proxy or gateway: Retry-After only, no X-RateLimit-* headers
    "server_error",  # 500
    "unavailable",  # 503 with Retry-After
    "request_timeout",  # 408
    "conflict",  # 409
    "key_revoked",  # 401: the key is no longer accepted (revoked or rotated mid-sync; `times` for every request on)
    "drop_connection",  # the connection closes before any response
    "truncated_body",  # a Content-Length longer than the body that arrives
    "html_body",  # 502 with an HTML page, as a proxy sends
    "web_page",  # 200 with an HTML page: a site's, where the API should be (a wrong base_url, a captive portal)
    "redirect_elsewhere",  # 301 to the same path and query on another host, over plain http (`redirect_to`)
    "redirect_same_host",  # 308 to the very address asked, on the same host (a load balancer's hop)
    "invalid_json",  # 200 whose JSON is cut short (complete as HTTP)
    "event_without_key",  # 200, a page whose event has no primary key (`id`, `eventID`): a damaged answer
    "stall_before_headers",  # the request is read, then nothing for `stall_seconds`, then the connection closes
    "stall_after_headers",  # status line and headers (the full Content-Length), then nothing, then it closes
    "stall_mid_body",  # half the body, then nothing for `stall_seconds`, then the connection closes
    "trickle_body",  # status line and headers, then the body a byte every `trickle_seconds`: each byte in time
    "trickle_headers",  # the status line and headers a byte every `trickle_seconds`, then the body
    "endless_continue",  # `100 Continue` every `trickle_seconds` for `stall_seconds`, then the answer
]

# where redirect_elsewhere points unless told: another loopback host, where nothing listens
REDIRECT_ELSEWHERE = "http://127.0.0.2:9"
# when a rate_limit fault without Retry-After says the key resets: the rate limit's window
RATE_LIMIT_WINDOW_SECONDS = 60
_HTML_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
_WEB_PAGE = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>Event analytics</h1></body></html>"
# what the faults that never deliver a whole body start to send: a 200 that looks like a page of events
_NEVER_WHOLE = {"events": [{"id": "never-delivered"}] * 20, "total": 10**6}
# a page of one event without its primary key, for either API (null, as a serializer writes a missing value)
_EVENT_WITHOUT_KEY = {"events": [{"id": None, "eventID": None, "event": "page_view"}], "total": 1, "totalCount": 1}


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
    # the stall_* kinds: how long the server sends nothing (real seconds, on the server's side only; the
    # connector's request timeout ends the wait on its side). Stopping the server ends a stall at once.
    stall_seconds: float = Field(30.0, ge=0)
    trickle_seconds: float = Field(0.05, gt=0)  # trickle_*: the wait before each byte (real seconds)
    # the answer says `Connection: close`, as many proxies' do: the client's connection hands its socket to the answer
    connection_close: bool = False
    redirect_to: str = REDIRECT_ELSEWHERE  # redirect_elsewhere: the scheme, host and port it points to

    def applies(self, number: int, api: str, number_of_api: int) -> bool:
        if self.api is not None:
            number = number_of_api if self.api == api else 0
        return self.at_request <= number < self.at_request + self.times


def fault_answer(fault: Fault, now: float, asked: str = "/") -> ApiResponse:
    """What a fault answers, before `write` mangles it on the wire (`now`: unix seconds, for dates; `asked`: the
    request's path and query)."""
    if fault.kind == "redirect_elsewhere":
        return ApiResponse(301, None, {"Location": fault.redirect_to + asked})
    if fault.kind == "redirect_same_host":
        return ApiResponse(308, None, {"Location": asked})
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
        reset = int(now + (fault.retry_after_seconds or RATE_LIMIT_WINDOW_SECONDS))
        return rate_limited(
            {**retry_after, "X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
        )
    if fault.kind == "server_error":
        return ApiResponse(500, {"error": {"code": "internal", "message": "Internal server error"}})
    if fault.kind == "unavailable":
        return ApiResponse(503, {"error": {"code": "unavailable", "message": "Service unavailable"}}, retry_after)
    if fault.kind == "request_timeout":
        return ApiResponse(408, {"message": "Request timed out"})
    if fault.kind == "conflict":
        return ApiResponse(409, {"message": "Conflict, please retry"})
    if fault.kind == "key_revoked":
        return ApiResponse(401, {"message": "Unauthorized"})
    if fault.kind == "html_body":
        return ApiResponse(502, None)
    if fault.kind == "web_page":
        return ApiResponse(200, None)
    if fault.kind == "event_without_key":
        return ApiResponse(200, _EVENT_WITHOUT_KEY)
    # drop_connection, truncated_body, invalid_json, stall_*, trickle_body: a normal-looking answer that never
    # arrives whole (in time)
    return ApiResponse(200, _NEVER_WHOLE)


def write(handler: BaseHTTPRequestHandler, answer: ApiResponse, fault: Fault | None, stop: threading.Event) -> bool:
    """Send `answer` on the handler's connection: whole, or as `fault` mangles it. False when a trickled answer was
    cut short: the client hung up on it (its deadline) before it was whole."""
    kind = fault.kind if fault else None
    if kind in ("drop_connection", "stall_before_headers"):
        if kind == "stall_before_headers":
            stop.wait(fault.stall_seconds)
        handler.close_connection = True
        return True
    if kind in ("html_body", "web_page"):
        payload, content_type = _HTML_PAGE if kind == "html_body" else _WEB_PAGE, "text/html"
    else:
        # orjson: a page of 100 bem events in ~0.05 ms against ~0.5 with json. The emulator's own work is no part of
        # the latency it models, and it answers concurrent requests one at a time (one interpreter)
        payload, content_type = _encoded(answer.body), "application/json"
    if kind == "invalid_json":
        payload = payload[: len(payload) // 2]
    headers = {"Content-Type": content_type, "Content-Length": str(len(payload)), **answer.headers}
    if fault is not None and fault.connection_close:
        headers["Connection"] = "close"
        handler.close_connection = True
    if kind == "endless_continue" and not _send_slowly(
        handler, _continues_until(time.monotonic() + fault.stall_seconds), fault, stop
    ):
        handler.close_connection = True
        return False
    if kind == "trickle_headers":
        status = f"HTTP/1.1 {answer.status} {handler.responses.get(answer.status, ('',))[0]}\r\n"
        head = (status + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n").encode()
        handler.close_connection = True
        if not _send_slowly(handler, _bytes_of(head), fault, stop):
            return False
        handler.wfile.write(payload)
        return True
    handler.send_response(answer.status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if kind == "stall_after_headers":
        _stall(handler, fault, stop)
        return True
    if kind == "trickle_body":
        handler.close_connection = True
        return _send_slowly(handler, _bytes_of(payload), fault, stop)
    if kind in ("truncated_body", "stall_mid_body"):
        handler.wfile.write(payload[: len(payload) // 2])
        if kind == "stall_mid_body":
            _stall(handler, fault, stop)
        handler.close_connection = True
        return True
    handler.wfile.write(payload)
    return True


def _encoded(body: object) -> bytes:
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:  # an integer past 64 bits, a lone surrogate: json writes them (as APIs do)
        return json.dumps(body).encode()


def _bytes_of(data: bytes) -> Iterator[bytes]:
    return (data[at : at + 1] for at in range(len(data)))


def _continues_until(ends: float) -> Iterator[bytes]:
    while time.monotonic() < ends:
        yield b"HTTP/1.1 100 Continue\r\n\r\n"


def _send_slowly(handler: BaseHTTPRequestHandler, pieces: Iterable[bytes], fault: Fault, stop: threading.Event) -> bool:
    """Each of `pieces` after a wait of `trickle_seconds`; whether all of them went out (not when the client hung up,
    or the server stopped, first)."""
    try:
        for piece in pieces:
            if stop.wait(fault.trickle_seconds) or _client_gone(handler):
                return False
            handler.wfile.write(piece)
            handler.wfile.flush()
    except OSError:  # the client hung up
        return False
    return True


def _client_gone(handler: BaseHTTPRequestHandler) -> bool:
    """Whether the client shut its side of the connection (what a deadline does): its end of stream is readable.
    Writing to it may go on succeeding for a while."""
    connection = handler.connection
    if not select.select([connection], [], [], 0)[0]:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _stall(handler: BaseHTTPRequestHandler, fault: Fault, stop: threading.Event) -> None:
    """What was written reaches the client now; then nothing until the stall ends or the server stops."""
    handler.wfile.flush()
    stop.wait(fault.stall_seconds)
    handler.close_connection = True
