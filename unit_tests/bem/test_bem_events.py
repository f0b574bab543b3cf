"""bem_events: one reader, oldest first, paging with startingAfter until an empty page; a state resumed from
a real ID of an earlier second, so that events created in the same second as the last one read, which may
sort before it, are not skipped; a state that depends on the listing only; and a saved position that
vanished (deleted, expired, filtered out) recovered without losing what came after it."""

import math
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.state import MARGIN_SECONDS
from source_events.emulator import BemBehaviour
from source_events.emulator.ids import ksuid
from source_events.emulator.responses import ApiResponse
from testkit.builders import BEM, bem_events_in_seconds, catalog, record_ids, run_read, state, states_of

_T0 = 1_790_000_000  # a second in 2026


def _bem_requests(http):
    return [r for r in http.request_history if r.url.split("?")[0].endswith("/events") and "/workspaces/" not in r.url]


def _query(request):
    return parse_qs(urlsplit(request.url).query)


def _listed(bem) -> list[str]:
    return sorted(e["eventID"] for e in bem.events)


def _saved_after(events: list[dict]) -> dict:
    """The state a sync leaves after reading `events` (of earlier seconds than anything after them)."""
    last = events[-1]["eventID"]
    return {"eventID": last, "starting_after": last, "already_read": []}


@pytest.mark.parametrize("count, expected_requests", [(0, 1), (99, 2), (100, 2), (150, 3), (200, 3)])
def test_paging_follows_starting_after_and_stops_only_on_an_empty_page(config, bem, http, count, expected_requests):
    """A full last page is followed by one empty page; a short page is not trusted as the end either."""
    synced = bem_events_in_seconds({_T0 - 60: 1}, seed=1)
    bem.events = synced + bem_events_in_seconds({_T0 + i: 1 for i in range(count)})

    output = run_read(config.with_bem(page_size=100).build(), catalog(BEM), state(BEM, _saved_after(synced)))

    assert record_ids(output, BEM, "eventID") == _listed(bem)[1:]
    requests = _bem_requests(http)
    if count == 0:  # an empty answer after the saved position: is that event still listed?
        assert [_query(r).get("eventIDs") for r in requests] == [None, [synced[0]["eventID"]]]
        requests = requests[:1]
    assert len(requests) == expected_requests
    assert all(_query(r)["limit"] == ["100"] and _query(r)["sortOrder"] == ["asc"] for r in requests)
    assert _query(requests[0])["startingAfter"] == [synced[0]["eventID"]]
    if count > 100:
        assert _query(requests[1])["startingAfter"] == [bem.events[100]["eventID"]]


def test_csv_array_filters_and_is_labelled_reach_the_query_string(config, bem, http):
    run_read(
        config.with_bem(
            event_types=["transform", "error"],
            function_names=["a", "b"],
            function_ids=["f1"],
            call_ids=["c1", "c2"],
            reference_ids=["r1"],
            is_labelled=False,
        ).build(),
        catalog(BEM),
    )

    query = _query(_bem_requests(http)[0])
    assert query["eventTypes"] == ["transform,error"]
    assert query["functionNames"] == ["a,b"]
    assert query["functionIDs"] == ["f1"]
    assert query["callIDs"] == ["c1,c2"]
    assert query["referenceIDs"] == ["r1"]
    assert query["isLabelled"] == ["false"]


def test_unset_filters_stay_out_of_the_query_string(config, bem, http):
    run_read(config.with_bem(event_types=[]).build(), catalog(BEM))

    query = _query(_bem_requests(http)[0])
    assert set(query) == {"limit", "sortOrder"}


def test_a_first_sync_reads_oldest_first_with_one_reader(config, bem, http):
    bem.events = bem_events_in_seconds({_T0 + s: 1 + s % 7 for s in range(60)}, seed=4)

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    assert record_ids(output, BEM, "eventID") == _listed(bem)
    requests = _bem_requests(http)
    assert {_query(r)["sortOrder"][0] for r in requests} == {"asc"}
    assert len(requests) == math.ceil(len(bem.events) / 10) + 1  # every page, then an empty one


def test_state_resumes_after_the_last_id_of_an_earlier_second(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 3, _T0 + 1: 4})

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    final = states_of(output, BEM)[-1]
    listed = _listed(bem)
    last_second = [i for i in listed if ksuid_seconds(i) == _T0 + 1]
    assert final == {"eventID": listed[-1], "starting_after": listed[2], "already_read": last_second}


@pytest.mark.parametrize("page_size", [1, 3, 10])
def test_the_state_is_a_function_of_the_listing_alone(config, bem, http, page_size):
    """The same history gives the same state messages, run after run (one reader: no thread decides)."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 + (s * 7) % 5 for s in range(30)}, seed=9)
    cfg = config.with_bem(page_size=page_size).build()

    runs = [states_of(run_read(cfg, catalog(BEM)), BEM) for _ in range(3)]

    assert runs[0] == runs[1] == runs[2]
    assert len(runs[0][-1]["already_read"]) <= max(1 + (s * 7) % 5 for s in range(30))


_SORTS = [
    BemBehaviour(sort_by="id"),
    BemBehaviour(sort_by="created"),
    BemBehaviour(sort_by="second", asc_ties="insertion", desc_ties="insertion"),
    BemBehaviour(sort_by="second", asc_ties="id_reversed", desc_ties="id"),
]


@pytest.mark.parametrize("behaviour", _SORTS, ids=lambda b: f"{b.sort_by}-{b.asc_ties}-{b.desc_ties}")
def test_an_event_created_in_the_last_second_read_is_picked_up_even_if_it_sorts_before_it(config, bem, http, behaviour):
    rng = random.Random(3)
    bem.behaviour = behaviour
    bem.events = bem_events_in_seconds({_T0: 5, _T0 + 1: 5}, seed=11)
    first = run_read(config.with_bem(page_size=3).build(), catalog(BEM))
    saved = states_of(first, BEM)[-1]

    # Same second as the last one read, with an ID that sorts before it.
    last_read = saved["eventID"]
    late = ksuid(_T0 + 1, rng)
    while late > last_read:
        late = ksuid(_T0 + 1, rng)
    bem.events.append({"eventID": late, "eventType": "transform", "_created": (_T0 + 1, 99)})
    http.reset_mock()
    second = run_read(config.with_bem(page_size=3).build(), catalog(BEM), state(BEM, saved))

    assert record_ids(second, BEM, "eventID") == [late]
    assert _query(_bem_requests(http)[0])["startingAfter"] == [saved["starting_after"]]


def test_a_sync_resumed_from_any_state_message_loses_nothing_and_repeats_nothing(config, bem, http):
    """Kill the sync right after each state message, resume from it: the union is every event, once."""
    bem.events = bem_events_in_seconds({_T0 + s: n for s, n in enumerate([4, 1, 6, 2, 7, 3])}, seed=5)
    cfg = config.with_bem(page_size=4).build()
    full = run_read(cfg, catalog(BEM))
    everything = _listed(bem)
    assert sorted(record_ids(full, BEM, "eventID")) == everything

    emitted_before = []
    checkpoints = 0
    for message in full.records_and_state_messages:
        if message.record:
            emitted_before.append(message.record.data["eventID"])
            continue
        checkpoints += 1
        resumed = run_read(cfg, catalog(BEM), state(BEM, message.state.stream.stream_state.__dict__))
        rest = record_ids(resumed, BEM, "eventID")
        assert sorted(emitted_before + rest) == everything
    assert checkpoints >= len(everything) // 4  # at least one checkpoint per page


def test_full_refresh_reads_everything_from_the_start(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 2, _T0 + 5: 2})

    output = run_read(config.with_bem().build(), catalog(BEM, mode=SyncMode.full_refresh))

    assert sorted(record_ids(output, BEM, "eventID")) == _listed(bem)


def test_a_state_with_only_an_event_id_resumes_after_it(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 2, _T0 + 5: 2})
    ids = _listed(bem)

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, {"eventID": ids[1]}))

    assert record_ids(output, BEM, "eventID") == ids[2:]


def test_a_state_of_a_first_sync_read_from_both_ends_resumes_its_oldest_first_reader(config, bem, http):
    """0.3.0 saved `newest_first` while a first sync read from both ends: the oldest-first position is enough."""
    bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(10)}, seed=2)
    ids = _listed(bem)
    saved = {
        "eventID": ids[3],
        "starting_after": ids[1],
        "already_read": ids[2:4],
        "newest_first": {"eventID": ids[-3], "starting_after": ids[-1], "already_read": ids[-3:-1], "top": {}},
    }

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, saved))

    assert record_ids(output, BEM, "eventID") == ids[4:]
    assert "newest_first" not in states_of(output, BEM)[-1]


@pytest.mark.parametrize(
    "bad_state",
    [{"eventID": 5}, {"eventID": "ev_x", "already_read": "ev_y"}, {"eventID": "ev_x", "starting_after": 7}],
    ids=["numeric_id", "already_read_not_a_list", "numeric_starting_after"],
)
def test_a_malformed_state_fails_with_a_config_error_naming_the_fix(config, bem, http, bad_state):
    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, bad_state), expect_failure=True)

    assert any("saved state of stream bem_events is unusable" in e.trace.error.message for e in output.errors)


def test_an_incremental_sync_with_nothing_new_costs_two_requests(config, bem, http):
    bem.events = bem_events_in_seconds({_T0 + s: 3 for s in range(50)}, seed=6)
    cfg = config.with_bem(page_size=20).build()
    saved = states_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    http.reset_mock()

    output = run_read(cfg, catalog(BEM), state(BEM, saved))

    assert record_ids(output, BEM, "eventID") == []
    assert len(_bem_requests(http)) == 2
    assert states_of(output, BEM)[-1] == saved


# ---- a saved position that vanished ---------------------------------------------------------------------


_VANISHING = [
    BemBehaviour(unknown_cursor="reject"),
    BemBehaviour(unknown_cursor="empty"),
    BemBehaviour(unknown_cursor="from_start"),
    BemBehaviour(unknown_cursor="reject", sort_by="second", asc_ties="id", desc_ties="insertion"),
    BemBehaviour(unknown_cursor="empty", sort_by="created"),
    BemBehaviour(unknown_cursor="reject", honours_sort_order=False),
    BemBehaviour(unknown_cursor="empty", honours_sort_order=False),
]


def _vanish(bem, saved: dict) -> None:
    """The events the state names (its position and those read after it) are deleted."""
    named = {saved["starting_after"], saved["eventID"], *saved["already_read"]}
    bem.events[:] = [e for e in bem.events if e["eventID"] not in named]


@pytest.mark.parametrize(
    "behaviour",
    _VANISHING,
    ids=lambda b: f"{b.unknown_cursor}-{b.sort_by}-{'sorts' if b.honours_sort_order else 'ignores_sort_order'}",
)
def test_a_vanished_position_is_recovered_without_losing_what_came_after_it(config, bem, http, behaviour, caplog):
    bem.behaviour = behaviour
    bem.events = bem_events_in_seconds({_T0 + s: 1 + s % 3 for s in range(200)}, seed=8)
    cfg = config.with_bem(page_size=10).build()
    saved = states_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    _vanish(bem, saved)
    new = bem_events_in_seconds({_T0 + 300 + s: 2 for s in range(15)}, seed=12)
    bem.events += new
    http.reset_mock()

    second = run_read(cfg, catalog(BEM), state(BEM, saved))

    emitted = record_ids(second, BEM, "eventID")
    assert {e["eventID"] for e in new} <= set(emitted)
    assert len(emitted) == len(set(emitted))  # nothing twice within a sync
    if behaviour.honours_sort_order:
        # newest first down to the saved second: the history before it is not read again
        assert all(ksuid_seconds(i) >= ksuid_seconds(saved["starting_after"]) - MARGIN_SECONDS for i in emitted)
    vanished_lines = [r.getMessage() for r in caplog.records if "Reading newest first down to" in r.getMessage()]
    assert len(vanished_lines) == 1
    final = states_of(second, BEM)[-1]
    assert "recovering" not in final
    # the state is ordinary again: the next sync with nothing new costs 2 requests
    http.reset_mock()
    third = run_read(cfg, catalog(BEM), state(BEM, final))
    assert record_ids(third, BEM, "eventID") == []
    assert len(_bem_requests(http)) == 2


def test_a_rejected_position_with_nothing_after_it_reads_nothing_and_keeps_going(config, bem, http):
    bem.behaviour = BemBehaviour(unknown_cursor="reject")
    bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(30)}, seed=13)
    cfg = config.with_bem(page_size=10).build()
    saved = states_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    _vanish(bem, saved)
    http.reset_mock()

    second = run_read(cfg, catalog(BEM), state(BEM, saved))

    # the seconds just before the vanished position are read again (the margin), nothing older
    emitted = record_ids(second, BEM, "eventID")
    assert all(ksuid_seconds(i) >= ksuid_seconds(saved["starting_after"]) - MARGIN_SECONDS for i in emitted)
    assert len(_bem_requests(http)) <= 6  # rejected, newest, oldest, one page down past the floor


def test_another_400_on_a_resumed_sync_stays_a_config_error_naming_the_setting(config, bem, http):
    """Only a rejected position is recovered: a request the API rejects without one is the user's to fix."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(5)}, seed=14)
    saved = _saved_after(bem.events[:2])
    bem.list_events = lambda path, query, headers: ApiResponse(400, {"message": "functionNames: unknown function"})

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, saved), expect_failure=True)

    messages = [e.trace.error.message for e in output.errors]
    assert any("bem rejected the request (functionNames: unknown function)" in m and "`bem`" in m for m in messages)
    assert len(_bem_requests(http)) == 2  # the resumed page, then the same question without a position
