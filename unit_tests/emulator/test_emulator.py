"""The emulator keeps its promises: documented auth, errors and paging, every switch for undocumented
behaviour, faults by schedule and data that changes at a chosen request. Tested over real HTTP."""

import random
import time

import pytest
import requests

from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import format_flameup_time
from source_events.emulator.ids import ksuid
from source_events.emulator.server import EmulatorServer, Fault, Mutation, RateLimit
from testkit.builders import a_flameup_event, bem_events_in_seconds, utc

_KEY = {"Authorization": "Bearer fk"}
_BEM_KEY = {"x-api-key": "bk"}


@pytest.fixture
def server():
    with EmulatorServer(FlameupApi("ws", "fk", []), BemApi("bk", [])) as running:
        yield running


def _flameup(server, **params):
    return requests.get(f"{server.flameup_base_url}/workspaces/ws/events", params=params, headers=_KEY, timeout=5)


def _bem(server, **params):
    return requests.get(f"{server.bem_base_url}/events", params=params, headers=_BEM_KEY, timeout=5)


@pytest.mark.parametrize(
    "since_inclusive, until_inclusive, precision, expected",
    [
        (True, True, "microsecond", ["on_since", "half_past_since", "inside", "on_until"]),
        (False, False, "microsecond", ["half_past_since", "inside"]),
        # compared per second, 00:00:00.5 equals a since of 00:00:00
        (True, False, "second", ["on_since", "half_past_since", "inside"]),
        (False, True, "second", ["inside", "on_until"]),
    ],
)
def test_flameup_since_until_follow_the_chosen_reading(server, since_inclusive, until_inclusive, precision, expected):
    stamps = {
        "on_since": "2026-01-01T00:00:00Z",
        "half_past_since": "2026-01-01T00:00:00.5Z",
        "inside": "2026-01-01T12:00:00Z",
        "on_until": "2026-01-02T00:00:00Z",
    }
    server.flameup.events = [a_flameup_event(stamp, id=name) for name, stamp in stamps.items()]
    server.flameup.behaviour = FlameupBehaviour(
        since_inclusive=since_inclusive,
        until_inclusive=until_inclusive,
        compare_precision=precision,
        newest_first=False,
    )

    body = _flameup(server, since="2026-01-01T00:00:00Z", until="2026-01-02T00:00:00Z", limit=100).json()

    assert [e["id"] for e in body["events"]] == expected
    assert body["total"] == len(expected)


def test_flameup_caps_limit_and_reports_total_as_configured(server):
    server.flameup.events = [
        a_flameup_event(format_flameup_time(utc("2026-01-01T00:00:00Z"), 0), id=f"e{i}") for i in range(50)
    ]
    server.flameup.behaviour = FlameupBehaviour(limit_cap=37, total="unfiltered")

    body = _flameup(server, limit=100, user_id="nobody").json()
    assert body == {"events": [], "total": 50}
    assert len(_flameup(server, limit=100).json()["events"]) == 37

    server.flameup.behaviour = FlameupBehaviour(total="absent")
    assert "total" not in _flameup(server, limit=10).json()


def test_flameup_orders_newest_first_or_oldest_first(server):
    server.flameup.events = [a_flameup_event(f"2026-01-0{d}T00:00:00Z", id=f"d{d}") for d in (2, 1, 3)]
    server.flameup.behaviour = FlameupBehaviour(newest_first=True)
    assert [e["id"] for e in _flameup(server).json()["events"]] == ["d3", "d2", "d1"]
    server.flameup.behaviour = FlameupBehaviour(newest_first=False)
    assert [e["id"] for e in _flameup(server).json()["events"]] == ["d1", "d2", "d3"]


def test_flameup_rejects_a_bad_key_and_an_unknown_workspace(server):
    assert requests.get(
        f"{server.flameup_base_url}/workspaces/ws/events", headers={"Authorization": "Bearer no"}
    ).json() == {"error": {"code": "unauthorized", "message": "Invalid or missing API key"}}
    assert requests.get(f"{server.flameup_base_url}/workspaces/other/events", headers=_KEY).status_code == 404


def test_bem_validates_limit_and_cursor_combinations(server):
    server.bem.events = bem_events_in_seconds({1_790_000_000: 3})
    assert _bem(server, limit=0).status_code == 422
    assert _bem(server, limit=101).status_code == 422
    first = server.bem.events[0]["eventID"]
    assert _bem(server, startingAfter=first, endingBefore=first).status_code == 400
    assert _bem(server, startingAfter="ev_unknown").status_code == 400
    assert requests.get(f"{server.bem_base_url}/events", headers={"x-api-key": "no"}).status_code == 401


def test_bem_sorts_by_id_or_by_creation_and_pages_to_an_empty_page(server):
    rng = random.Random(1)
    second = 1_790_000_000
    created_order = [ksuid(second, rng) for _ in range(6)]
    server.bem.events = [{"eventID": i, "_created": (second, n)} for n, i in enumerate(created_order)]

    server.bem.behaviour = BemBehaviour(sort_by="created")
    assert [e["eventID"] for e in _bem(server, limit=100).json()["events"]] == created_order
    server.bem.behaviour = BemBehaviour(sort_by="id")
    by_id = [e["eventID"] for e in _bem(server, limit=3).json()["events"]]
    assert by_id == sorted(created_order)[:3]
    rest = _bem(server, limit=3, startingAfter=by_id[-1]).json()["events"]
    assert [e["eventID"] for e in rest] == sorted(created_order)[3:]
    assert _bem(server, limit=3, startingAfter=rest[-1]["eventID"]).json()["events"] == []
    assert "_created" not in rest[0]


def test_bem_csv_filters_and_is_labelled(server):
    server.bem.events = [
        {"eventID": "a", "eventType": "transform", "functionName": "x", "_labelled": True, "_created": (1, 0)},
        {"eventID": "b", "eventType": "error", "functionName": "y", "_created": (1, 1)},
        {"eventID": "c", "eventType": "route", "functionName": "x", "_created": (1, 2)},
    ]
    assert [e["eventID"] for e in _bem(server, eventTypes="transform,error").json()["events"]] == ["a", "b"]
    assert [e["eventID"] for e in _bem(server, functionNames="x").json()["events"]] == ["a", "c"]
    assert [e["eventID"] for e in _bem(server, isLabelled="true").json()["events"]] == ["a"]


def test_faults_follow_their_schedule(server):
    server.faults += [
        Fault(kind="rate_limit", at_request=1, retry_after_seconds=2),
        Fault(kind="server_error", at_request=2),
        Fault(kind="unavailable", at_request=3),
        Fault(kind="html_body", at_request=4),
        Fault(kind="truncated_body", at_request=5),
        Fault(kind="drop_connection", at_request=2, api="bem"),  # bem's own 2nd request (the 6th in all)
    ]
    limited = _flameup(server)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(limited.headers)
    assert limited.json() == {"error": "Rate limit exceeded", "message": "Too many requests. Please try again later."}
    assert _flameup(server).status_code == 500
    assert _flameup(server).status_code == 503
    html = _bem(server)
    assert html.status_code == 502 and html.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _flameup(server)
    with pytest.raises(requests.exceptions.ConnectionError):
        _bem(server)
    assert _flameup(server).status_code == 200
    assert server.request_count == 7


def test_a_fault_for_one_api_leaves_the_other_alone(server):
    server.faults.append(Fault(kind="server_error", at_request=1, times=3, api="bem"))
    assert _flameup(server).status_code == 200
    assert _bem(server).status_code == 500


def test_mutations_apply_before_their_request_and_ground_truth_follows(server):
    server.mutations.append(Mutation(at_request=2, flameup_events=[a_flameup_event("2026-01-01T00:00:00Z", id="late")]))
    assert _flameup(server).json()["total"] == 0
    assert server.ground_truth()["flameup_events"] == set()
    assert _flameup(server).json()["total"] == 1
    assert server.ground_truth()["flameup_events"] == {"late"}


def test_latency_is_added_to_every_request():
    waited: list[float] = []
    with EmulatorServer(FlameupApi("ws", "fk", []), BemApi("bk", []), latency_seconds=0.2, sleep=waited.append) as slow:
        _flameup(slow)
        _bem(slow)

    assert waited == [0.2, 0.2]


def test_flameup_rate_limit_answers_429_past_the_limit_and_counts_down_in_headers():
    limit = RateLimit(requests=3, per_seconds=60)
    with EmulatorServer(FlameupApi("ws", "fk", []), BemApi("bk", []), rate_limit=limit) as limited:
        answers = [_flameup(limited) for _ in range(4)]
        bem_answer = _bem(limited)  # the documented limit is Flameup's: bem is not counted

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


def test_flameup_rate_limit_window_slides():
    now = [1_790_000_000.0]
    limit = RateLimit(requests=2, per_seconds=60)
    with EmulatorServer(FlameupApi("ws", "fk", []), rate_limit=limit, clock=lambda: now[0]) as limited:
        first = [_flameup(limited).status_code for _ in range(2)]
        now[0] += 30
        third = _flameup(limited)
        now[0] += 30.5  # the first two left the window; the 429 was not counted
        after_the_window = [_flameup(limited).status_code for _ in range(3)]

    assert first == [200, 200]
    assert third.status_code == 429 and third.headers["X-RateLimit-Reset"] == str(1_790_000_000 + 60 + 1)
    assert after_the_window == [200, 200, 429]
