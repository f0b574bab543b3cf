"""Faults by schedule (source_events/emulator/faults.py), each shown to fire and to reach the client as
it claims: statuses and headers, broken bodies, dropped connections, and stalls that a client's timeout
cuts short and that stopping the server ends at once."""

import threading
import time

import pytest
import requests

from source_events.emulator.server import Fault
from testkit.emulator import running_emulator
from unit_tests.emulator.calls import bem_get, flameup_get

_CLIENT_TIMEOUT = 0.3  # seconds: the client's read timeout against a stall of 30 s
# what a client sees when the connection closes before the answer is whole
_CUT_SHORT = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)


def test_faults_follow_their_schedule(server):
    server.faults += [
        Fault(kind="rate_limit", at_request=1, retry_after_seconds=2),
        Fault(kind="server_error", at_request=2),
        Fault(kind="unavailable", at_request=3),
        Fault(kind="html_body", at_request=4),
        Fault(kind="truncated_body", at_request=5),
        Fault(kind="drop_connection", at_request=2, api="bem"),  # bem's own 2nd request (the 6th in all)
    ]
    limited = flameup_get(server)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(limited.headers)
    assert limited.json() == {"error": "Rate limit exceeded", "message": "Too many requests. Please try again later."}
    assert flameup_get(server).status_code == 500
    assert flameup_get(server).status_code == 503
    html = bem_get(server)
    assert html.status_code == 502 and html.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        flameup_get(server)
    with pytest.raises(requests.exceptions.ConnectionError):
        bem_get(server)
    assert flameup_get(server).status_code == 200
    assert server.request_count == 7
    assert [f.kind for f in server.served_faults] == [
        "rate_limit",
        "server_error",
        "unavailable",
        "html_body",
        "truncated_body",
        "drop_connection",
    ]


@pytest.mark.parametrize(
    "fault, status, header",
    [
        (Fault(kind="gateway_rate_limit", at_request=1, retry_after_seconds=3), 429, ("Retry-After", "3")),
        (Fault(kind="rate_limit", at_request=1, retry_after_ms=1500), 429, ("retry-after-ms", "1500")),
        (Fault(kind="request_timeout", at_request=1), 408, None),
        (Fault(kind="conflict", at_request=1), 409, None),
        (Fault(kind="key_revoked", at_request=1), 401, None),
    ],
)
def test_each_status_fault_answers_its_status_and_headers(server, fault, status, header):
    server.faults.append(fault)
    answer = bem_get(server)

    assert answer.status_code == status and server.served_faults == [fault]
    if header:
        assert answer.headers[header[0]] == header[1]
    if fault.kind == "gateway_rate_limit":
        assert "X-RateLimit-Limit" not in answer.headers


def test_retry_after_as_an_http_date_reads_the_server_clock():
    with running_emulator(clock=lambda: 1_790_000_000.0) as server:
        server.faults.append(Fault(kind="unavailable", at_request=1, retry_after_seconds=30, retry_after_as_date=True))
        answer = flameup_get(server)

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "Mon, 21 Sep 2026 14:13:50 GMT"


def test_invalid_json_is_complete_http_with_a_cut_body(server):
    server.faults.append(Fault(kind="invalid_json", at_request=1))
    answer = flameup_get(server)

    assert answer.status_code == 200 and len(answer.content) == int(answer.headers["Content-Length"])
    with pytest.raises(requests.exceptions.JSONDecodeError):
        answer.json()


def test_a_fault_for_one_api_leaves_the_other_alone(server):
    server.faults.append(Fault(kind="server_error", at_request=1, times=3, api="bem"))
    assert flameup_get(server).status_code == 200
    assert [bem_get(server).status_code for _ in range(4)] == [500, 500, 500, 200]


def test_stall_before_headers_sends_nothing_until_the_client_gives_up(server):
    server.faults.append(Fault(kind="stall_before_headers", at_request=1))

    began = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        flameup_get(server, timeout=_CLIENT_TIMEOUT)

    assert time.monotonic() - began < 5 and [f.kind for f in server.served_faults] == ["stall_before_headers"]
    assert flameup_get(server).status_code == 200  # the next request is answered


def test_stall_after_headers_sends_the_status_and_full_length_then_nothing(server):
    server.faults.append(Fault(kind="stall_after_headers", at_request=1, api="bem"))

    answer = requests.get(
        f"{server.bem_base_url}/events",
        headers={"x-api-key": server.bem.api_key},
        timeout=_CLIENT_TIMEOUT,
        stream=True,
    )
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) > 100
    with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):
        answer.content  # noqa: B018 - reading the body is the point
    assert [f.kind for f in server.served_faults] == ["stall_after_headers"]


def test_stall_mid_body_sends_half_the_body_then_nothing(server):
    server.faults.append(Fault(kind="stall_mid_body", at_request=1))

    answer = requests.get(
        f"{server.flameup_base_url}/workspaces/{server.flameup.workspace_id}/events",
        headers={"Authorization": f"Bearer {server.flameup.api_key}"},
        timeout=_CLIENT_TIMEOUT,
        stream=True,
    )
    length = int(answer.headers["Content-Length"])
    received = b""
    with pytest.raises(requests.exceptions.ConnectionError, match="timed out"):
        for chunk in answer.iter_content(chunk_size=1):
            received += chunk

    assert answer.status_code == 200 and len(received) == length // 2
    assert [f.kind for f in server.served_faults] == ["stall_mid_body"]


@pytest.mark.parametrize("kind", ["stall_before_headers", "stall_after_headers", "stall_mid_body"])
def test_a_stall_ends_with_a_closed_connection(server, kind):
    server.faults.append(Fault(kind=kind, at_request=1, stall_seconds=0))

    with pytest.raises(_CUT_SHORT):
        flameup_get(server, timeout=10).json()
    assert [f.kind for f in server.served_faults] == [kind]


@pytest.mark.parametrize("kind", ["stall_before_headers", "stall_after_headers", "stall_mid_body"])
def test_stopping_the_server_ends_a_stall_at_once(kind):
    outcome: list[BaseException | requests.Response] = []
    with running_emulator() as server:
        server.faults.append(Fault(kind=kind, at_request=1, stall_seconds=60))

        def wait_for_the_answer() -> None:
            try:
                outcome.append(flameup_get(server, timeout=60))
                outcome[-1].content  # noqa: B018 - the body is where two of the stalls are
            except requests.exceptions.RequestException as error:
                outcome.append(error)

        client = threading.Thread(target=wait_for_the_answer)
        client.start()
        deadline = time.monotonic() + 10
        while not server.served_faults and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.served_faults, "the stall never started"
        stopped_at = time.monotonic()
    client.join(timeout=10)

    assert not client.is_alive() and time.monotonic() - stopped_at < 5
    assert isinstance(outcome[-1], _CUT_SHORT)
