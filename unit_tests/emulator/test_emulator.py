"""The emulator keeps its promises: documented auth, errors and paging, the rate limit, latency, the
requests it records and its control endpoints. Tested over real HTTP. The switches for undocumented
behaviour: test_flameup_switches.py, test_bem_switches.py; faults: test_faults.py; data changes:
test_changes.py."""

import socket
import struct
import threading
import time

import pytest
import requests

from source_events.emulator import BemApi, FlameupBehaviour
from source_events.emulator.datasets import format_flameup_time
from source_events.emulator.sample import BEM_API_KEY
from source_events.emulator.server import EmulatorServer, Mutation, RateLimit
from testkit.builders import a_flameup_event, bem_events_in_seconds, utc
from testkit.emulator import requests_of, running_emulator
from unit_tests.emulator.calls import BEM_AUTH, FLAMEUP_AUTH, bem_get, flameup_get, flameup_ids


def test_flameup_caps_limit_and_reports_total_as_configured(server):
    server.flameup.events = [
        a_flameup_event(format_flameup_time(utc("2026-01-01T00:00:00Z"), 0), id=f"e{i}") for i in range(50)
    ]
    server.flameup.behaviour = FlameupBehaviour(limit_cap=37, total="unfiltered")

    body = flameup_get(server, limit=100, user_id="nobody").json()
    assert body == {"events": [], "total": 50}
    assert len(flameup_get(server, limit=100).json()["events"]) == 37

    server.flameup.behaviour = FlameupBehaviour(total="absent")
    assert "total" not in flameup_get(server, limit=10).json()


def test_flameup_rejects_a_bad_key_an_unknown_workspace_and_a_bad_date(server):
    assert requests.get(
        f"{server.flameup_base_url}/workspaces/{server.flameup.workspace_id}/events",
        headers={"Authorization": "Bearer no"},
        timeout=5,
    ).json() == {"error": {"code": "unauthorized", "message": "Invalid or missing API key"}}
    assert (
        requests.get(f"{server.flameup_base_url}/workspaces/other/events", headers=FLAMEUP_AUTH, timeout=5).status_code
        == 404
    )
    workspace = server.flameup.workspace_id
    for path in (f"/workspaces/{workspace}/events/extra", f"/workspaces/x/workspaces/{workspace}/events"):
        assert requests.get(f"{server.flameup_base_url}{path}", headers=FLAMEUP_AUTH, timeout=5).status_code == 404, (
            path
        )
    bad = flameup_get(server, since="2026-13-01T00:00:00Z")
    assert bad.status_code == 400 and "2026-13-01T00:00:00Z" in bad.json()["error"]["message"]


def test_bem_validates_limit_and_cursor_combinations(server):
    server.bem.events = bem_events_in_seconds({1_790_000_000: 3})
    assert bem_get(server, limit=0).status_code == 422
    assert bem_get(server, limit=101).status_code == 422
    first = server.bem.events[0]["eventID"]
    assert bem_get(server, startingAfter=first, endingBefore=first).status_code == 400
    assert requests.get(f"{server.bem_base_url}/events", headers={"x-api-key": "no"}, timeout=5).status_code == 401
    assert requests.get(f"{server.bem_base_url}/events", headers=BEM_AUTH, timeout=5).status_code == 200


def test_bem_csv_filters_and_is_labelled(server):
    server.bem.events = [
        {"eventID": "a", "eventType": "transform", "functionName": "x", "_labelled": True, "_created": (1, 0)},
        {"eventID": "b", "eventType": "error", "functionName": "y", "_created": (1, 1)},
        {"eventID": "c", "eventType": "route", "functionName": "x", "_created": (1, 2)},
    ]
    assert [e["eventID"] for e in bem_get(server, eventTypes="transform,error").json()["events"]] == ["a", "b"]
    assert [e["eventID"] for e in bem_get(server, functionNames="x").json()["events"]] == ["a", "c"]
    assert [e["eventID"] for e in bem_get(server, isLabelled="true").json()["events"]] == ["a"]


def test_mutations_apply_before_their_request_and_ground_truth_follows(server):
    server.mutations.append(Mutation(at_request=2, flameup_events=[a_flameup_event("2026-01-01T00:00:00Z", id="late")]))
    assert flameup_get(server).json()["total"] == 0
    assert server.ground_truth()["flameup_events"] == set()
    assert flameup_get(server).json()["total"] == 1
    assert server.ground_truth()["flameup_events"] == {"late"}
    assert server.added_keys() == {"flameup_events": {"late"}, "bem_events": set()}
    assert server.changes == []  # applied once, then gone


def test_every_request_is_recorded_with_its_query_and_requests_of_reads_it(server):
    flameup_get(server, limit=3, since="2026-01-01T00:00:00Z")
    bem_get(server, limit=7, sortOrder="desc")
    flameup_get(server, limit=1, offset=4)

    assert requests_of(server, "flameup") == [
        {"limit": "3", "since": "2026-01-01T00:00:00Z"},
        {"limit": "1", "offset": "4"},
    ]
    assert requests_of(server, "bem") == [{"limit": "7", "sortOrder": "desc"}]
    assert [(r.number, r.api) for r in server.received] == [(1, "flameup"), (2, "bem"), (3, "flameup")]
    assert [arrival[:2] for arrival in server.arrivals] == [(1, "flameup"), (2, "bem"), (3, "flameup")]


def test_requests_of_reads_the_unit_tests_requests_mock_history_the_same_way(http, api_host):
    requests.get(f"{api_host}/api/v1/workspaces/ws_demo/events", params={"limit": 5}, timeout=5)
    requests.get(f"{api_host}/v1-alpha/events", params={"startingAfter": "ev_1", "limit": 100}, timeout=5)

    assert requests_of(http, "flameup") == [{"limit": "5"}]
    assert requests_of(http, "bem") == [{"startingAfter": "ev_1", "limit": "100"}]


def test_requests_of_refuses_a_parameter_sent_twice(server):
    flameup_get(server, limit=[1, 2])
    with pytest.raises(AssertionError, match=r"\['limit'\] sent more than once"):
        requests_of(server, "flameup")


def test_the_control_endpoints_are_not_counted_as_requests(server):
    appended = requests.post(f"{server.base_url}/_emulator/append", json={"flameup": 2, "bem": 3}, timeout=5).json()
    truth = requests.get(f"{server.base_url}/_emulator/truth", timeout=5).json()

    assert len(appended["flameup_events"]) == 2 and len(appended["bem_events"]) == 3
    assert truth == {stream: sorted(keys) for stream, keys in appended.items()}
    assert server.request_count == 0 and server.received == []


def test_latency_is_added_to_every_request():
    waited: list[float] = []
    with running_emulator(latency_seconds=0.2) as slow:
        slow.sleep = waited.append
        flameup_get(slow)
        bem_get(slow)

    assert waited == [0.2, 0.2]


def test_flameup_rate_limit_answers_429_past_the_limit_and_counts_down_in_headers():
    with running_emulator(rate_limit=RateLimit(requests=3, per_seconds=60)) as limited:
        answers = [flameup_get(limited) for _ in range(4)]
        bem_answer = bem_get(limited)  # the documented limit is Flameup's: bem is not counted

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert int(answers[-1].headers["X-RateLimit-Reset"]) > time.time()
    assert answers[-1].json() == {
        "error": "Rate limit exceeded",
        "message": "Too many requests. Please try again later.",
    }
    assert bem_answer.status_code == 200
    assert limited.rate_limited == 1 and len(limited.flameup_arrivals) == 3


def test_flameup_rate_limit_window_slides_and_can_be_set_on_a_running_server():
    now = [1_790_000_000.0]
    with running_emulator(clock=lambda: now[0]) as limited:
        assert "X-RateLimit-Limit" not in flameup_get(limited).headers
        limited.rate_limit = RateLimit(requests=2, per_seconds=60)
        first = [flameup_get(limited).status_code for _ in range(2)]
        now[0] += 30
        third = flameup_get(limited)
        now[0] += 30.5  # the first two left the window; the 429 was not counted
        after_the_window = [flameup_get(limited).status_code for _ in range(3)]

    assert first == [200, 200]
    assert third.status_code == 429 and third.headers["X-RateLimit-Reset"] == str(1_790_000_000 + 60 + 1)
    assert after_the_window == [200, 200, 429]


def test_one_clock_for_the_server_and_both_apis():
    now = [1_790_000_000.5]
    with running_emulator(clock=lambda: now[0]) as server:
        added = server.append_new_events(flameup_count=1, bem_count=1, seed=3)
        flameup_ids(server)

    (flameup_event,) = server.flameup.events
    (bem_event,) = server.bem.events
    assert added == {"flameup_events": [flameup_event["id"]], "bem_events": [bem_event["eventID"]]}
    assert flameup_event["timestamp"] == flameup_event["created_at"] == "2026-09-21T14:13:20.500000Z"
    assert bem_event["_created"][0] == now[0]
    assert server.arrivals[0][2] == now[0]


def test_a_client_that_gives_up_on_an_answer_prints_no_traceback(capfd):
    """A sync's request timeout, or a killed sync, closes the connection before the answer is written: that is
    part of what the emulator serves (the README's emulator runs beside the connector's own terminal)."""
    closed, waited = threading.Event(), threading.Event()

    def latency(_seconds: float) -> None:  # the answer is written only once the client has gone
        waited.set()
        closed.wait(timeout=10)

    with EmulatorServer(
        bem=BemApi(BEM_API_KEY, bem_events_in_seconds({1_790_000_000: 3})), latency_seconds=1, sleep=latency
    ) as server:
        host, port = server.bem_base_url.split("//")[1].split("/")[0].split(":")
        client = socket.create_connection((host, int(port)), timeout=10)
        client.sendall(f"GET /v1-alpha/events HTTP/1.1\r\nHost: {host}\r\nx-api-key: {BEM_API_KEY}\r\n\r\n".encode())
        assert waited.wait(timeout=10)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, as a killed process
        client.close()
        closed.set()
        assert requests.get(server.bem_base_url + "/events", headers=BEM_AUTH, timeout=10).status_code == 200

    assert server.request_count == 2  # the abandoned answer was written, then the next one served
    assert "Traceback" not in capfd.readouterr().err
