"""bem_events: one reader, oldest first, paging with startingAfter until an empty page at a confirmed position;
a state that resumes from a real ID at least the lookback before the newest event read (events created in the
last second read, listed late, or minted by a clock seconds off can sort behind it); a state that depends on
the listing only; and a position that vanished, between syncs or while a sync reads, recovered without losing
what came after it."""

import math
import random

import pytest
from airbyte_cdk.models import SyncMode

from source_events.bem.anchor import resume_after
from source_events.bem.backward import SORT_CHECK_EVENTS
from source_events.bem.ksuid import ksuid_seconds
from source_events.emulator import BemBehaviour
from source_events.emulator.ids import ksuid
from source_events.emulator.responses import ApiResponse
from testkit.builders import BEM, bem_events_in_seconds, catalog, positions_of, record_ids, run_read, state
from testkit.emulator import requests_of

_T0 = 1_790_000_000  # a second in 2026


def _listed(bem) -> list[str]:
    return sorted(e["eventID"] for e in bem.events)


def _resumed_after(event_id: str) -> dict:
    """A state that resumes right after `event_id` (as if it were the newest event read, lookback aside)."""
    return {"eventID": event_id, "starting_after": event_id}


def _after_request(bem, number: int, change) -> list[int]:
    """The fake API applies `change(bem)` just before answering its `number`-th request (from 1); returns a
    list that holds `number` once the change fired, so that the test can assert it did."""
    answer, seen, fired = bem.list_events, [0], []

    def list_events(path, query, headers):
        seen[0] += 1
        if seen[0] == number:
            change(bem)
            fired.append(number)
        return answer(path, query, headers)

    bem.list_events = list_events
    return fired


def _once_served_oldest_first(bem, event_id: str, change, page_size: int) -> list[str]:
    """The fake API applies `change(bem)` once it has served an oldest-first page of `page_size` whose next position
    is `event_id` (the last event before the page's last second, `resume_after`, where that reader resumes from
    next; not the sort-order check's answer, which asks for SORT_CHECK_EVENTS oldest first); returns a list that holds
    it once the change fired."""
    assert page_size != SORT_CHECK_EVENTS, "the reader's pages could not be told from the sort-order check"
    answer, fired = bem.list_events, []

    def list_events(path, query, headers):
        response = answer(path, query, headers)
        events = (response.body or {}).get("events") or []
        page = query.get("sortOrder") == ["asc"] and query.get("limit") == [str(page_size)]
        if not fired and page and events and resume_after([e["eventID"] for e in events]) == event_id:
            change(bem)
            fired.append(event_id)
        return response

    bem.list_events = list_events
    return fired


@pytest.mark.parametrize("count", [0, 1, 99, 100, 150, 1_000])
@pytest.mark.parametrize("sort", [BemBehaviour(sort_by="id"), BemBehaviour(sort_by="second", desc_ties="insertion")])
def test_a_first_sync_reads_from_both_ends_and_emits_each_event_once(config, bem, http, count, sort):
    """One reader oldest first, one newest first, in parallel; they stop where they meet (by the IDs they read,
    so however each direction breaks ties in a second). About one request per page, and a few more: the sort order
    check, and each reader's last page."""
    bem.behaviour = sort
    bem.events = bem_events_in_seconds({_T0 + i // 3: 1 for i in range(count)})

    output = run_read(config.with_bem(page_size=100).build(), catalog(BEM))

    emitted = record_ids(output, BEM, "eventID")
    assert sorted(emitted) == _listed(bem) and len(emitted) == len(set(emitted))
    requests = requests_of(http, "bem")
    # each reader's pages, its last (an empty page and its confirmation), the sort order check, and the seconds
    # around where they meet, which both read (a second may be listed in another tie order each way)
    assert len(requests) <= math.ceil(count / 100) + 8
    if count > 200:
        assert {q["sortOrder"] for q in requests if q["limit"] == "100"} == {"asc", "desc"}


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

    for query in requests_of(http, "bem"):
        assert query["eventTypes"] == "transform,error"
        assert query["functionNames"] == "a,b"
        assert query["functionIDs"] == "f1"
        assert query["callIDs"] == "c1,c2"
        assert query["referenceIDs"] == "r1"
        assert query["isLabelled"] == "false"


def test_unset_filters_stay_out_of_the_query_string(config, bem, http):
    run_read(config.with_bem(event_types=[]).build(), catalog(BEM))

    assert {frozenset(query) for query in requests_of(http, "bem")} == {frozenset({"limit", "sortOrder"})}


@pytest.mark.parametrize("lookback", [0, 5, 60])
def test_the_state_resumes_after_the_last_event_read_more_than_the_lookback_before_the_newest(
    config, bem, http, lookback
):
    bem.events = bem_events_in_seconds({_T0 + s: 1 + s % 3 for s in range(0, 200, 2)}, seed=3)

    output = run_read(config.with_bem(page_size=10, lookback_window_seconds=lookback).build(), catalog(BEM))

    final = positions_of(output, BEM)[-1]
    listed = _listed(bem)
    newest_second = ksuid_seconds(listed[-1])
    behind = [i for i in listed if ksuid_seconds(i) < newest_second - lookback]
    assert final == {"eventID": listed[-1], "starting_after": behind[-1]}


def test_an_incremental_sync_reads_again_only_its_lookback(config, bem, http):
    bem.events = bem_events_in_seconds({_T0 + s: 3 for s in range(0, 600, 5)}, seed=6)
    cfg = config.with_bem(page_size=20, lookback_window_seconds=60).build()
    saved = positions_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    http.reset_mock()

    output = run_read(cfg, catalog(BEM), state(BEM, saved))

    listed = _listed(bem)
    in_lookback = [i for i in listed if i > saved["starting_after"]]
    assert sorted(record_ids(output, BEM, "eventID")) == in_lookback
    assert all(ksuid_seconds(i) >= ksuid_seconds(listed[-1]) - 60 for i in in_lookback)
    # the lookback's pages from both ends, the sort order check, each reader's last page, the seconds they meet in
    assert len(requests_of(http, "bem")) <= 2 * math.ceil(len(in_lookback) / 20) + 6
    assert positions_of(output, BEM)[-1] == saved


@pytest.mark.parametrize("behind_by, lookback, caught", [(50, 60, True), (0, 0, True), (50, 0, False)])
def test_an_event_that_appears_behind_ids_already_read_is_caught_within_the_lookback(
    config, bem, http, behind_by, lookback, caught
):
    """Listed late (committed seconds after its ID's second) or minted by a clock seconds behind: the next sync
    reads it if it lies within the lookback of the newest event read; an event of the newest second always."""
    bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(0, 300, 3)}, seed=21)
    cfg = config.with_bem(page_size=10, lookback_window_seconds=lookback).build()
    saved = positions_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    late = ksuid(ksuid_seconds(saved["eventID"]) - behind_by, random.Random(5))
    while late > saved["eventID"]:  # it sorts behind the newest event read
        late = ksuid(ksuid_seconds(saved["eventID"]) - behind_by, random.Random(late))
    bem.events.append({"eventID": late, "eventType": "transform", "_created": (_T0 + 400, 0)})
    http.reset_mock()

    output = run_read(cfg, catalog(BEM), state(BEM, saved))

    assert (late in record_ids(output, BEM, "eventID")) is caught


@pytest.mark.parametrize("page_size", [1, 3, 10])
def test_the_state_is_a_function_of_the_listing_alone(config, bem, http, page_size):
    """The same history gives the same state at the end of a sync, run after run, whichever of the two readers
    read more (while they read, each checkpoint says where both stand)."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 + (s * 7) % 5 for s in range(30)}, seed=9)
    cfg = config.with_bem(page_size=page_size, lookback_window_seconds=4).build()

    runs = [positions_of(run_read(cfg, catalog(BEM)), BEM)[-1] for _ in range(4)]

    assert runs[0] == runs[1] == runs[2] == runs[3]
    assert set(runs[0]) == {"eventID", "starting_after"} and runs[0]["eventID"] == _listed(bem)[-1]


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
    cfg = config.with_bem(page_size=3, lookback_window_seconds=0).build()
    saved = positions_of(run_read(cfg, catalog(BEM)), BEM)[-1]

    # Same second as the newest one read, with an ID that sorts before it.
    late = ksuid(_T0 + 1, rng)
    while late > saved["eventID"]:
        late = ksuid(_T0 + 1, rng)
    bem.events.append({"eventID": late, "eventType": "transform", "_created": (_T0 + 1, 99)})
    http.reset_mock()
    second = run_read(cfg, catalog(BEM), state(BEM, saved))

    assert late in record_ids(second, BEM, "eventID")
    # the oldest-first reader's first page (not a position check, nor the sort check, whichever of the two readers
    # sent first)
    first_oldest_first = next(q for q in requests_of(http, "bem") if q["sortOrder"] == "asc" and q["limit"] == "3")
    assert first_oldest_first["startingAfter"] == saved["starting_after"]


def test_a_sync_resumed_from_any_state_message_loses_nothing(config, bem, http):
    """Kill the sync right after each state message, resume from it: together, every event."""
    bem.events = bem_events_in_seconds({_T0 + s: n for s, n in enumerate([4, 1, 6, 2, 7, 3])}, seed=5)
    cfg = config.with_bem(page_size=4, lookback_window_seconds=1).build()
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
        assert set(emitted_before + record_ids(resumed, BEM, "eventID")) == set(everything)
    assert checkpoints >= len(everything) // 4  # at least one checkpoint per page


def test_a_sync_resumed_from_any_state_message_rereads_no_more_than_the_pages_in_flight(config, bem, http):
    """Where the readers stood when the state was written bounds what the resumed sync reads again: the newest-first
    reader goes no further down than where the oldest-first one stood, even when they had met already."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(0, 240, 2)}, seed=7)
    cfg = config.with_bem(page_size=10, lookback_window_seconds=1).build()
    full = run_read(cfg, catalog(BEM))

    emitted_before, rereads = [], []
    for message in full.records_and_state_messages:
        if message.record:
            emitted_before.append(message.record.data["eventID"])
            continue
        resumed = run_read(cfg, catalog(BEM), state(BEM, message.state.stream.stream_state.__dict__))
        rereads.append(len(set(emitted_before) & set(record_ids(resumed, BEM, "eventID"))))
    # each reader may read its last page again, and the seconds events may stray around where it stood
    assert len(rereads) >= 10 and max(rereads) <= 2 * 10 + 2 * 2


def test_full_refresh_reads_everything_from_the_start(config, bem, http):
    bem.events = bem_events_in_seconds({_T0: 2, _T0 + 5: 2})

    output = run_read(config.with_bem().build(), catalog(BEM, mode=SyncMode.full_refresh))

    assert sorted(record_ids(output, BEM, "eventID")) == _listed(bem)


@pytest.mark.parametrize(
    "saved, resumes_after",
    [
        pytest.param(lambda ids: {"eventID": ids[1]}, 1, id="before_0.2.0_event_id_only"),
        pytest.param(
            lambda ids: {"eventID": ids[3], "starting_after": ids[1], "already_read": ids[2:4]}, 1, id="0.4.x"
        ),
        pytest.param(
            lambda ids: {
                "eventID": ids[3],
                "starting_after": ids[1],
                "already_read": ids[2:4],
                "newest_first": {"eventID": ids[-3], "starting_after": ids[-1], "already_read": ids[-3:-1]},
            },
            1,
            id="0.3.0_read_from_both_ends",
        ),
        # a sync 0.5.12 resumed from a killed one could end so; every later sync refused it
        pytest.param(lambda ids: {"eventID": None, "starting_after": ids[1]}, 1, id="0.5.12_resumed_without_event_id"),
        pytest.param(
            lambda ids: {
                "eventID": None,
                "starting_after": None,
                "reading": {"oldest_first": {"starting_after": ids[1], "done": False}, "newest_first": {}},
            },
            1,
            id="0.5.12_killed_first_sync_without_its_lookback",
        ),
    ],
)
def test_a_state_saved_by_an_earlier_version_resumes_where_it_says(config, bem, http, saved, resumes_after):
    bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(10)}, seed=2)
    ids = _listed(bem)

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, saved(ids)))

    emitted = record_ids(output, BEM, "eventID")
    # everything after the saved position; the newest-first reader may read a lookback (60 s) under it again
    assert set(ids[resumes_after + 1 :]) <= set(emitted) and len(emitted) == len(set(emitted))
    assert all(ksuid_seconds(i) >= ksuid_seconds(ids[resumes_after]) - 60 for i in emitted)
    assert set(positions_of(output, BEM)[-1]) == {"eventID", "starting_after"}


@pytest.mark.parametrize(
    "bad_state",
    [{"eventID": 5}, {"eventID": "ev_x", "recovering": "yes"}, {"eventID": "ev_x", "starting_after": 7}],
    ids=["numeric_id", "recovering_not_an_object", "numeric_starting_after"],
)
def test_a_malformed_state_fails_with_a_config_error_naming_the_fix(config, bem, http, bad_state):
    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, bad_state), expect_failure=True)

    assert any("saved state of stream bem_events is unusable" in e.trace.error.message for e in output.errors)


# ---- a position that vanished ---------------------------------------------------------------------------


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
    """The events the state names, and the ones read after its position, are deleted."""
    bem.events[:] = [e for e in bem.events if e["eventID"] < saved["starting_after"]]


@pytest.mark.parametrize(
    "behaviour",
    _VANISHING,
    ids=lambda b: f"{b.unknown_cursor}-{b.sort_by}-{'sorts' if b.honours_sort_order else 'ignores_sort_order'}",
)
def test_a_vanished_saved_position_is_recovered_without_losing_what_came_after_it(config, bem, http, behaviour, caplog):
    bem.behaviour = behaviour
    bem.events = bem_events_in_seconds({_T0 + s: 1 + s % 3 for s in range(200)}, seed=8)
    cfg = config.with_bem(page_size=10, lookback_window_seconds=5).build()
    saved = positions_of(run_read(cfg, catalog(BEM)), BEM)[-1]
    _vanish(bem, saved)
    new = bem_events_in_seconds({_T0 + 300 + s: 2 for s in range(15)}, seed=12)
    bem.events += new
    http.reset_mock()

    second = run_read(cfg, catalog(BEM), state(BEM, saved))

    emitted = record_ids(second, BEM, "eventID")
    assert {e["eventID"] for e in new} <= set(emitted)
    assert len(emitted) == len(set(emitted))  # nothing twice within a sync
    if behaviour.honours_sort_order:
        # newest first down to the vanished position, less twice the lookback (the position's ID may be minted a
        # lookback ahead, an event listed after it a lookback behind): the history before that is not read again
        assert all(ksuid_seconds(i) >= ksuid_seconds(saved["starting_after"]) - 2 * 5 for i in emitted)
    vanished_lines = [r.getMessage() for r in caplog.records if "Reading what is listed after it" in r.getMessage()]
    assert len(vanished_lines) == 1
    final = positions_of(second, BEM)[-1]
    assert "recovering" not in final
    # the state is ordinary again: the next sync with nothing new reads its lookback from both ends (the oldest-first
    # reader's page, its last second again (resume_after), an empty page and its confirmation; the sort order check
    # and the top page)
    http.reset_mock()
    third = run_read(cfg, catalog(BEM), state(BEM, final))
    assert set(record_ids(third, BEM, "eventID")) <= {e["eventID"] for e in new}
    assert len(requests_of(http, "bem")) <= 7


def test_retention_deleting_the_position_of_a_first_sync_reads_on_from_the_listings_start(config, bem, http, caplog):
    """Retention expires the oldest events, exactly where a first sync reading oldest first stands: the empty page
    after its vanished position is not the end. Nothing before the position is listed any more, so the oldest-first
    reader goes on from the listing's start."""
    bem.behaviour = BemBehaviour(unknown_cursor="empty")
    bem.events = bem_events_in_seconds({_T0 + s: 2 for s in range(100)}, seed=15)
    listed = _listed(bem)
    expire = lambda api: api.events.__setitem__(slice(None), [e for e in api.events if e["eventID"] > listed[25]])  # noqa: E731
    fired = _after_request(bem, 4, expire)  # three requests of either reader, then the oldest 26 expire

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    assert fired == [4]
    emitted = record_ids(output, BEM, "eventID")
    assert set(listed[26:]) <= set(emitted) <= set(listed) and len(emitted) == len(set(emitted))
    assert not [r for r in caplog.records if "Reading what is listed after it newest first" in r.getMessage()]


def _position_deleted_once_served(bem, unknown_cursor: str) -> tuple[list[str], list[str]]:
    """50 events, one a second, read in pages of 5: each page resumes before its last event ([3], [7], [11], ...).
    The event at [11] is deleted once a page that resumes from it was served. Returns the listing and whether the
    deletion fired."""
    bem.behaviour = BemBehaviour(unknown_cursor=unknown_cursor)
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(50)}, seed=16)
    listed = _listed(bem)
    delete_position = lambda api: api.events.remove(next(e for e in api.events if e["eventID"] == listed[11]))  # noqa: E731
    return listed, _once_served_oldest_first(bem, listed[11], delete_position, page_size=5)


@pytest.mark.parametrize("unknown_cursor", ["reject", "empty", "from_start"])
def test_the_event_just_read_deleted_mid_sync_falls_back_on_the_one_read_before_it(config, bem, http, unknown_cursor):
    listed, fired = _position_deleted_once_served(bem, unknown_cursor)

    output = run_read(config.with_bem(page_size=5).build(), catalog(BEM))

    assert fired == [listed[11]]
    emitted = record_ids(output, BEM, "eventID")
    assert sorted(emitted) == listed  # each once, none lost (the deleted one was read before it went)
    # both readers may read all of it: 50 events in 50 s lie within the seconds they meet in (2 x 60 s); each page
    # lists the last second of the one before again (resume_after): 4 new events a page of 5
    # (from_start: the answer from the listing's start lists events from before the position again, so the reader
    # asks once more from further back too, source_events.bem.anchor: 3 more requests)
    assert len(requests_of(http, "bem")) <= 2 * 50 // (5 - 1) + 10 + (3 if unknown_cursor == "from_start" else 0)


def test_a_deleted_position_answered_with_a_server_error_is_checked_and_read_past(config, bem, http, clock, caplog):
    """bem answering a `startingAfter` it no longer knows with a 500: after the retries, a check (`eventIDs`) shows the
    event is gone, and the reader falls back on the one read before it. 0.5.18 failed the sync as bem's fault, and
    its state named the deleted event again on every sync (adversary review of 0.5.17)."""
    listed, fired = _position_deleted_once_served(bem, "server_error")

    output = run_read(config.with_bem(page_size=5).build(), catalog(BEM))

    assert fired == [listed[11]]
    assert sorted(record_ids(output, BEM, "eventID")) == listed
    checks = [q for q in requests_of(http, "bem") if q.get("eventIDs") == listed[11]]
    assert checks and clock.retries, "the position was checked once bem's retries were spent"
    assert any("which it no longer lists: the position vanished" in r.getMessage() for r in caplog.records)


def test_a_saved_position_bem_answers_with_server_errors_while_it_still_lists_it_fails_the_sync(
    config, bem, http, clock
):
    """Still listed: the 500s were bem's, and the sync fails saying so (it resumes from there next time)."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(10)}, seed=18)
    listed = _listed(bem)
    answer = bem.list_events
    bem.list_events = lambda path, query, headers: (
        ApiResponse(500, {"message": "Internal Server Error"})
        if "startingAfter" in query
        else answer(path, query, headers)
    )

    output = run_read(
        config.with_bem().build(), catalog(BEM), state(BEM, _resumed_after(listed[4])), expect_failure=True
    )

    messages = [e.trace.error.message for e in output.errors]
    assert any("HTTP 500 to every try until the retries were spent" in m for m in messages), messages
    assert any(q.get("eventIDs") == listed[4] for q in requests_of(http, "bem"))  # checked: still listed


def test_a_whole_page_deleted_mid_sync_loses_nothing(config, bem, http, caplog):
    bem.behaviour = BemBehaviour(unknown_cursor="reject")
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(60)}, seed=17)
    listed = _listed(bem)
    delete_page = lambda api: api.events.__setitem__(  # noqa: E731
        slice(None), [e for e in api.events if not listed[15] <= e["eventID"] <= listed[19]]
    )
    fired = _once_served_oldest_first(bem, listed[19], delete_page, page_size=5)

    output = run_read(config.with_bem(page_size=5).build(), catalog(BEM))

    assert fired == [listed[19]]
    emitted = record_ids(output, BEM, "eventID")
    assert set(listed[:15] + listed[20:]) <= set(emitted) and len(emitted) == len(set(emitted))


def test_another_400_on_a_resumed_sync_stays_a_config_error_naming_the_setting(config, bem, http):
    """Only a rejected position is recovered: a request the API rejects without one is the user's to fix."""
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(5)}, seed=14)
    saved = _resumed_after(bem.events[1]["eventID"])
    bem.list_events = lambda path, query, headers: ApiResponse(400, {"message": "functionNames: unknown function"})

    output = run_read(config.with_bem().build(), catalog(BEM), state(BEM, saved), expect_failure=True)

    messages = [e.trace.error.message for e in output.errors]
    assert any("bem rejected the request (functionNames: unknown function)" in m and "`bem`" in m for m in messages)
    # the resumed page, then the listing's start without a position; the other reader's sort order check
    assert len(requests_of(http, "bem")) == 3


def test_a_first_sync_tells_the_platform_about_how_many_rows_it_reads_and_an_incremental_one_does_not_guess(
    config, bem, http
):
    bem.events = bem_events_in_seconds({_T0 + s: 3 for s in range(200)}, seed=22)
    cfg = config.with_bem(page_size=100).build()

    first = run_read(cfg, catalog(BEM))
    again = run_read(cfg, catalog(BEM), state(BEM, positions_of(first, BEM)[-1]))

    estimates = [m.trace.estimate for m in first.trace_messages if m.trace.type.value == "ESTIMATE"]
    assert [(e.name, e.row_estimate) for e in estimates] == [(BEM, 600)]  # bem's `totalCount`, once
    # resumed from a position, `totalCount` counts the whole listing, not what is left to read: no estimate
    assert not [m for m in again.trace_messages if m.trace.type.value == "ESTIMATE"]
