"""Data that changes while a sync pages (source_events/emulator/changes.py): additions and deletions by
schedule, each API's requests counted on their own, and the keys they added and deleted."""

import pytest
from pydantic import ValidationError

from source_events.emulator import BemBehaviour, FlameupBehaviour
from source_events.emulator.ids import ksuid_seconds
from source_events.emulator.server import Addition, Deletion
from testkit.builders import a_flameup_event, bem_events_in_seconds
from testkit.emulator import assert_within, running_emulator, sync_bounds
from unit_tests.emulator.calls import bem_get, bem_ids, flameup_get, flameup_ids

_T0 = 1_790_000_000


def _flameup_events(count: int) -> list[dict]:
    """`count` events a minute apart, oldest first, named by their order; each received a day later than
    the one before it was, in reverse: the oldest by `created_at` is the newest by `timestamp`."""
    return [
        a_flameup_event(
            f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00Z",
            id=f"e{i:03d}",
            created_at=f"2026-02-{28 - i % 28:02d}T00:00:00Z",
        )
        for i in range(count)
    ]


def test_a_random_deletion_removes_its_count_from_the_whole_data_set_before_its_request(server):
    server.flameup.events = _flameup_events(20)
    server.changes.append(Deletion(at_request=2, api="flameup", where="random", count=3, seed=5))

    first = flameup_get(server, limit=100).json()
    second = flameup_get(server, limit=100).json()

    deleted = server.deleted_keys()["flameup_events"]
    assert len(deleted) == 3 and server.deleted_keys()["bem_events"] == set()
    assert first["total"] == 20 and second["total"] == 17
    assert {e["id"] for e in second["events"]} == {e["id"] for e in first["events"]} - deleted
    assert server.ground_truth()["flameup_events"] == {e["id"] for e in second["events"]}


def test_a_seeded_random_deletion_chooses_the_same_events_run_after_run():
    chosen = []
    for _ in range(2):
        with running_emulator(flameup_events=_flameup_events(50)) as server:
            server.changes.append(Deletion(at_request=1, api="flameup", where="random", count=4, seed=8))
            flameup_get(server)
            chosen.append(server.deleted_keys()["flameup_events"])

    assert chosen[0] == chosen[1] and len(chosen[0]) == 4


@pytest.mark.parametrize("field, oldest", [("timestamp", {"e000", "e001"}), ("created_at", {"e027", "e026"})])
def test_flameup_oldest_deletion_follows_the_filter_field(server, field, oldest):
    server.flameup.events = _flameup_events(30)
    server.flameup.behaviour = FlameupBehaviour(filter_field=field)
    server.changes.append(Deletion(at_request=1, api="flameup", where="oldest", count=2))

    listed = flameup_ids(server, limit=100)

    assert server.deleted_keys()["flameup_events"] == oldest
    assert not oldest & set(listed) and len(listed) == 28


def test_bem_oldest_deletion_goes_by_id_second(server):
    server.bem.events = bem_events_in_seconds({_T0 + 9: 2, _T0: 1, _T0 + 3: 2})
    server.changes.append(Deletion(at_request=1, api="bem", where="oldest", count=2))

    listed = bem_ids(server, limit=100)

    deleted = server.deleted_keys()["bem_events"]
    assert sorted(ksuid_seconds(i) for i in deleted) == [_T0, _T0 + 3]
    assert len(listed) == 3 and not deleted & set(listed)


def test_deleting_the_last_bem_event_served_makes_its_cursor_unknown(server):
    server.bem.events = bem_events_in_seconds({_T0: 5, _T0 + 1: 5})
    server.bem.behaviour = BemBehaviour(unknown_cursor="reject")
    server.changes.append(Deletion(at_request=2, api="bem", where="last_served"))

    page = bem_ids(server, limit=4)
    resumed = bem_get(server, limit=4, startingAfter=page[-1])

    assert server.deleted_keys()["bem_events"] == {page[-1]}
    assert resumed.status_code == 400 and page[-1] in resumed.json()["message"]


def test_deleting_the_last_flameup_event_served_shifts_every_later_offset(server):
    server.flameup.events = _flameup_events(12)
    server.flameup.behaviour = FlameupBehaviour(newest_first=False)
    server.changes.append(Deletion(at_request=2, api="flameup", where="last_served"))

    first = flameup_ids(server, limit=4)
    second = flameup_ids(server, limit=4, offset=4)

    assert first == ["e000", "e001", "e002", "e003"]
    assert server.deleted_keys()["flameup_events"] == {"e003"}
    assert second == ["e005", "e006", "e007", "e008"]  # e004 moved to offset 3: a reader by offset skips it


def test_a_repeated_deletion_fires_every_n_requests_of_its_api_only_then_stops(server):
    server.bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(20)})
    server.changes.append(Deletion(at_request=2, api="bem", where="oldest", repeat_every=3, times=3))

    counts = []
    for _ in range(10):
        flameup_get(server)  # another API's requests do not count
        counts.append(len(bem_ids(server, limit=100)))

    assert counts == [20, 19, 19, 19, 18, 18, 18, 17, 17, 17]  # before bem requests 2, 5 and 8
    assert len(server.deleted_keys()["bem_events"]) == 3 and server.changes == []


def test_a_change_whose_request_has_passed_fires_at_the_next(server):
    server.bem.events = bem_events_in_seconds({_T0: 3})
    bem_ids(server)
    bem_ids(server)
    server.changes.append(Deletion(at_request=1, api="bem", where="random"))

    assert len(bem_ids(server)) == 2


def test_additions_are_created_at_the_clock_s_now_with_ids_from_a_clock_ahead():
    now = [_T0 + 0.5]
    with running_emulator(clock=lambda: now[0]) as server:
        server.changes += [
            Addition(at_request=2, api="bem", count=3, id_clock_offset=10),
            Addition(at_request=1, api="flameup", count=2, repeat_every=1, times=2),
        ]
        assert bem_ids(server) == []
        now[0] += 1
        listed = bem_ids(server)
        flameup_ids(server)
        flameup_ids(server)

    added = server.added_keys()
    assert set(listed) == added["bem_events"] and len(listed) == 3
    assert {ksuid_seconds(i) for i in listed} == {_T0 + 1 + 10}
    assert {e["_created"][0] for e in server.bem.events} == {_T0 + 1.5}
    assert len(added["flameup_events"]) == 4 and len(server.flameup.events) == 4
    assert {e["timestamp"] for e in server.flameup.events} == {"2026-09-21T14:13:21.500000Z"}


def test_two_equal_changes_keep_their_own_progress(server):
    server.bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(10)})
    twins = [Deletion(at_request=1, api="bem", where="oldest", repeat_every=2, times=2) for _ in range(2)]
    server.changes += twins

    for _ in range(4):
        bem_ids(server)

    assert len(server.deleted_keys()["bem_events"]) == 4 and server.changes == []


def test_repeating_needs_an_interval():
    with pytest.raises(ValidationError, match="repeat_every"):
        Deletion(at_request=1, api="bem", where="random", times=3)


def test_sync_bounds_say_what_a_sync_must_and_may_emit_while_data_changes(server):
    server.bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(10)})
    server.changes += [
        Deletion(at_request=2, api="bem", where="last_served"),
        Addition(at_request=3, api="bem", count=2),
    ]
    at_start = server.ground_truth()
    # the "sync": three requests, while the last event it read is deleted and two events are added
    read = bem_ids(server, limit=5)
    for _ in range(2):
        bem_ids(server, limit=100)

    bounds = sync_bounds(at_start, server)["bem_events"]
    (deleted,) = server.deleted_keys()["bem_events"]
    added = server.added_keys()["bem_events"]
    assert deleted == read[-1] and len(added) == 2
    assert bounds.must == at_start["bem_events"] - {deleted}
    assert bounds.may == at_start["bem_events"] | added
    assert_within(sorted(bounds.must) + sorted(added)[:1], bounds, "must, one addition")
    assert_within(sorted(bounds.must | {deleted}), bounds, "must, and the deleted one it read before it went")
    with pytest.raises(AssertionError, match="1 missing"):
        assert_within(sorted(bounds.must)[1:], bounds, "one lost")
    with pytest.raises(AssertionError, match="1 never existed"):
        assert_within([*bounds.must, "ev_made_up"], bounds, "one invented")
    with pytest.raises(AssertionError, match="1 duplicated"):
        assert_within([*bounds.must, min(bounds.must)], bounds, "one twice")
    assert_within([*bounds.must, min(bounds.must)], bounds, "one twice, allowed", duplicates_allowed=True)
