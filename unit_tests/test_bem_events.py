"""bem_events: startingAfter paging that stops only on an empty page, CSV filters, and a cursor that
resumes from a real, earlier ID so that events created in the same second as the last one read, which may
sort before it, are not skipped."""

import random
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_events.bem.ksuid import ksuid_seconds
from source_events.emulator import BemBehaviour
from source_events.emulator.ids import ksuid
from source_events.two_ended import MARGIN_SECONDS
from unit_tests.builders import BEM, bem_events_in_seconds, catalog, record_ids, run_read, state, states_of

_T0 = 1_790_000_000  # a second in 2026


def _bem_requests(http):
    return [r for r in http.request_history if r.url.split("?")[0].endswith("/events") and "/workspaces/" not in r.url]


def _query(request):
    return parse_qs(urlsplit(request.url).query)


@pytest.mark.parametrize("count, expected_requests", [(0, 1), (99, 2), (100, 2), (150, 3), (200, 3)])
def test_paging_follows_starting_after_and_stops_only_on_an_empty_page(config, bem, http, count, expected_requests):
    """A full last page is followed by one empty page; a short page is not trusted as the end either.
    (An incremental sync: one reader, oldest first, from the ID in state.)"""
    synced = bem_events_in_seconds({_T0 - 60: 1}, seed=1)
    bem.events = synced + bem_events_in_seconds({_T0 + i: 1 for i in range(count)})
    saved = {"eventID": synced[0]["eventID"], "starting_after": synced[0]["eventID"], "already_read": []}

    output = run_read(config.with_bem(page_size=100).build(), catalog(BEM), state(BEM, saved))

    assert record_ids(output, BEM, "eventID") == sorted(e["eventID"] for e in bem.events[1:])
    requests = _bem_requests(http)
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


def test_state_resumes_after_the_last_id_of_an_earlier_second(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 3, _T0 + 1: 4})

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    final = states_of(output, BEM)[-1]
    listed = sorted(e["eventID"] for e in bem.events)
    last_second = [i for i in listed if ksuid_seconds(i) == _T0 + 1]
    assert final == {"eventID": listed[-1], "starting_after": listed[2], "already_read": last_second}


@pytest.mark.parametrize("sort_by", ["id", "created"])
def test_an_event_created_in_the_last_second_read_is_picked_up_even_if_it_sorts_before_it(config, bem, http, sort_by):
    rng = random.Random(3)
    bem.behaviour = BemBehaviour(sort_by=sort_by)
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
    # from a real ID the API returned, or (a history within the newest seconds) from the start
    resumed_after = saved["starting_after"]
    assert _query(_bem_requests(http)[0]).get("startingAfter") == ([resumed_after] if resumed_after else None)


def test_a_sync_resumed_from_any_state_message_loses_nothing_and_repeats_nothing(config, bem, http):
    """Kill the sync right after each state message, resume from it: the union is every event, once."""
    bem.events = bem_events_in_seconds({_T0 + s: n for s, n in enumerate([4, 1, 6, 2, 7, 3])}, seed=5)
    cfg = config.with_bem(page_size=4).build()
    full = run_read(cfg, catalog(BEM))
    everything = sorted(e["eventID"] for e in bem.events)
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

    assert sorted(record_ids(output, BEM, "eventID")) == sorted(e["eventID"] for e in bem.events)


def test_a_state_with_only_an_event_id_resumes_after_it(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 2, _T0 + 5: 2})
    ids = sorted(e["eventID"] for e in bem.events)

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, {"eventID": ids[1]}))

    assert record_ids(output, BEM, "eventID") == ids[2:]


@pytest.mark.parametrize(
    "bad_state",
    [{"eventID": 5}, {"eventID": "ev_x", "already_read": "ev_y"}],
    ids=["numeric_id", "already_read_not_a_list"],
)
def test_a_malformed_state_fails_with_a_config_error_naming_the_fix(config, bem, http, bad_state):
    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, bad_state), expect_failure=True)

    assert any("saved state of stream bem_events is unusable" in e.trace.error.message for e in output.errors)


@pytest.mark.parametrize("seconds", [1_400_000_000, _T0, 2**32 - 1 + 1_400_000_000])
def test_ksuid_seconds_reads_the_timestamp_prefix(seconds):
    assert ksuid_seconds(ksuid(seconds, random.Random(seconds))) == seconds


@pytest.mark.parametrize("event_id", ["string", "ev_short", "ev_" + "!" * 27, "ev_" + "z" * 27])
def test_ksuid_seconds_is_none_for_ids_that_are_not_ksuids(event_id):
    assert ksuid_seconds(event_id) is None


@pytest.mark.parametrize("sort_by", ["id", "created"])
def test_a_sync_without_state_reads_from_both_ends_and_emits_every_event_once(config, bem, http, sort_by):
    bem.behaviour = BemBehaviour(sort_by=sort_by)
    bem.events = bem_events_in_seconds({_T0 + s: 1 + s % 7 for s in range(120)}, seed=4)

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    emitted = record_ids(output, BEM, "eventID")
    assert sorted(emitted) == sorted(e["eventID"] for e in bem.events)
    orders = [_query(r)["sortOrder"][0] for r in _bem_requests(http)]
    assert orders.count("asc") >= 2 and orders.count("desc") >= 2
    assert len(orders) <= len(bem.events) // 10 + 2 + 2  # both readers' last pages may overlap by a second
    # the final state is an ordinary one: resume after the newest seconds (within the meeting's margin),
    # whose IDs are already read
    final = states_of(output, BEM)[-1]
    newest = [i for i in emitted if ksuid_seconds(i) >= _T0 + 119 - MARGIN_SECONDS]
    assert "newest_first" not in final and sorted(final["already_read"]) == sorted(newest)
    assert ksuid_seconds(final["starting_after"]) == _T0 + 118 - MARGIN_SECONDS
