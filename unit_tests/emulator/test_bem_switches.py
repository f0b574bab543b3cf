"""Each bem switch for an undocumented behaviour, shown to fire over real HTTP."""

import random

import pytest

from source_events.emulator import BemBehaviour
from source_events.emulator.datasets import bem_event_at, bem_events
from source_events.emulator.ids import ksuid, ksuid_seconds
from testkit.builders import bem_events_in_seconds, utc
from testkit.emulator import running_emulator
from unit_tests.emulator.calls import bem_get, bem_ids

_T0 = 1_790_000_000


def test_sorted_by_id_or_by_creation_and_paged_to_an_empty_page(server):
    rng = random.Random(1)
    created_order = [ksuid(_T0, rng) for _ in range(6)]
    server.bem.events = [{"eventID": i, "_created": (_T0, n)} for n, i in enumerate(created_order)]

    server.bem.behaviour = BemBehaviour(sort_by="created")
    assert bem_ids(server, limit=100) == created_order
    server.bem.behaviour = BemBehaviour(sort_by="id")
    by_id = bem_ids(server, limit=3)
    assert by_id == sorted(created_order)[:3]
    rest = bem_get(server, limit=3, startingAfter=by_id[-1]).json()["events"]
    assert [e["eventID"] for e in rest] == sorted(created_order)[3:]
    assert bem_ids(server, limit=3, startingAfter=rest[-1]["eventID"]) == []
    assert "_created" not in rest[0]


def test_sorted_by_second_breaks_ties_each_direction_its_own_way(server):
    rng = random.Random(2)
    first = [ksuid(_T0, rng) for _ in range(4)]  # created in this order, in one second
    second = [ksuid(_T0 + 1, rng) for _ in range(2)]
    server.bem.events = [{"eventID": i, "_created": (_T0, n)} for n, i in enumerate(first)]
    server.bem.events += [{"eventID": i, "_created": (_T0 + 1, 4 + n)} for n, i in enumerate(second)]
    server.bem.behaviour = BemBehaviour(sort_by="second", asc_ties="insertion", desc_ties="id")

    assert bem_ids(server, sortOrder="asc") == first + second
    assert bem_ids(server, sortOrder="desc") == sorted(second) + sorted(first)


def test_a_server_that_ignores_sort_order_lists_oldest_first(server):
    server.bem.events = bem_events_in_seconds({_T0: 2, _T0 + 5: 2})
    server.bem.behaviour = BemBehaviour(honours_sort_order=False)
    ascending = bem_ids(server, sortOrder="asc")

    assert bem_ids(server, sortOrder="desc") == ascending == sorted(ascending)


@pytest.mark.parametrize(
    "reading, status, listed",
    [("reject", 400, None), ("empty", 200, []), ("from_start", 200, "all")],
)
def test_a_cursor_naming_no_listed_event_is_answered_as_configured(server, reading, status, listed):
    server.bem.events = bem_events_in_seconds({_T0: 3})
    server.bem.behaviour = BemBehaviour(unknown_cursor=reading)
    gone = ksuid(_T0, random.Random(99))

    for cursor in ("startingAfter", "endingBefore"):
        answer = bem_get(server, **{cursor: gone})
        assert answer.status_code == status
        if status == 200:
            expected = sorted(e["eventID"] for e in server.bem.events) if listed == "all" else listed
            assert [e["eventID"] for e in answer.json()["events"]] == expected
        else:
            assert gone in answer.json()["message"]


def test_retention_expires_events_by_their_id_second():
    now = [_T0 + 100.0]
    with running_emulator(
        bem_events=bem_events_in_seconds({_T0: 2, _T0 + 50: 1, _T0 + 90: 1}), clock=lambda: now[0]
    ) as server:
        server.bem.behaviour = BemBehaviour(retention_seconds=60)
        kept = set(bem_ids(server))
        now[0] += 30
        later = set(bem_ids(server))

    seconds = {e["eventID"]: e["_created"][0] for e in server.bem.events}
    assert kept == {i for i, s in seconds.items() if s >= _T0 + 40}
    assert later == {i for i, s in seconds.items() if s >= _T0 + 70}
    assert len(kept) == 2 and len(later) == 1


def test_a_listing_delay_makes_late_commits_appear_behind_ids_already_listed():
    now = [_T0 + 10.0]
    rng = random.Random(3)
    early = {"eventID": ksuid(_T0, rng), "_created": (_T0, 0)}
    # created 8 s later by a server whose clock is 9 s behind: its ID sorts first; listed 5 s after creation
    late = {"eventID": ksuid(_T0 - 1, rng), "_created": (_T0 + 8, 1)}
    with running_emulator(bem_events=[early, late], clock=lambda: now[0]) as server:
        server.bem.behaviour = BemBehaviour(listing_delay_seconds=5)
        before = bem_ids(server)
        truth_before = server.ground_truth()["bem_events"]
        now[0] = _T0 + 13.0
        after = bem_ids(server)

    assert before == [early["eventID"]] and truth_before == {early["eventID"]}
    assert after == [late["eventID"], early["eventID"]]  # behind the ID a reader already holds


@pytest.mark.parametrize("offset", [10, -7])
def test_ids_minted_by_a_clock_ahead_or_behind(offset):
    events = bem_events(300, utc("2026-01-01T00:00:00Z"), utc("2026-01-02T00:00:00Z"), id_clock_offset=offset)
    one = bem_event_at(_T0 + 0.25, random.Random(1), 0, id_clock_offset=offset)

    assert {ksuid_seconds(e["eventID"]) - e["_created"][0] for e in events} == {offset}
    assert ksuid_seconds(one["eventID"]) == _T0 + offset and one["_created"] == (_T0 + 0.25, 0)


def test_random_id_clock_skew_stays_within_its_bound():
    events = bem_events(600, utc("2026-01-01T00:00:00Z"), utc("2026-01-02T00:00:00Z"), seed=4, id_clock_skew=2)

    assert {ksuid_seconds(e["eventID"]) - e["_created"][0] for e in events} == {-2, -1, 0, 1, 2}
