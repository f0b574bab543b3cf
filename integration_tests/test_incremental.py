"""Acceptance-style incremental tests against the emulator over real HTTP: sequential syncs, events that
arrive late or in the same second, events added while a sync pages, a sync resumed from every state
message it emitted, abnormal states, and rate limiting. Every assertion is on exact sets of keys."""

import random
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.test.state_builder import StateBuilder

from source_events.bem.ksuid import ksuid_seconds
from source_events.common.checkpoints import SCOPE_KEY
from source_events.common.timestamps import parse_timestamp
from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_event_at, bem_events, flameup_events
from source_events.emulator.ids import ksuid
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer, Fault, Mutation
from testkit.builders import BEM, FLAMEUP, catalog, positions_of, run_read, state, states_of
from testkit.emulator import assert_exactly_once, emulator_config, keys

LOOKBACK = timedelta(minutes=10)
BEM_LOOKBACK_SECONDS = 60  # bem.lookback_window_seconds' default
SLACK = timedelta(seconds=2)  # how much earlier than a window Flameup is asked for its events


def _now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def server():
    end = _now() - timedelta(seconds=5)
    flameup = FlameupApi(
        WORKSPACE_ID, FLAMEUP_API_KEY, flameup_events(600, end - timedelta(days=20), end, WORKSPACE_ID, seed=4)
    )
    bem = BemApi(BEM_API_KEY, bem_events(600, end - timedelta(days=2), end, seed=4))
    with EmulatorServer(flameup, bem) as running:
        yield running


def _config(server, **flameup):
    return emulator_config(
        server, flameup={"start_date": "2026-10-01T00:00:00Z", "page_size": 50, **flameup}, bem={"page_size": 50}
    )


def _final_state(output, stream):
    return states_of(output, stream)[-1]


def test_a_second_sync_without_changes_rereads_only_the_lookback_window(server):
    config = _config(server)
    first = run_read(config, catalog(FLAMEUP, BEM))
    saved = parse_timestamp(_final_state(first, FLAMEUP)["timestamp"])

    second = run_read(config, catalog(FLAMEUP, BEM), _both_states(first))

    in_lookback = {e["id"] for e in server.flameup.events if parse_timestamp(e["timestamp"]) >= saved - LOOKBACK}
    # the first window asks from a second or two earlier: what the API returns is never dropped
    near_it = {e["id"] for e in server.flameup.events if parse_timestamp(e["timestamp"]) >= saved - LOOKBACK - SLACK}
    assert in_lookback <= set(keys(second, FLAMEUP)) <= near_it
    # bem reads again what is listed after its saved position: the newest second and the lookback before it
    bem_saved = _final_state(first, BEM)
    after_position = {e["eventID"] for e in server.bem.events if e["eventID"] > bem_saved["starting_after"]}
    assert set(keys(second, BEM)) == after_position and len(keys(second, BEM)) == len(after_position)
    newest_second = ksuid_seconds(bem_saved["eventID"])
    assert all(ksuid_seconds(i) >= newest_second - BEM_LOOKBACK_SECONDS for i in after_position)
    assert _final_state(second, BEM) == bem_saved


def test_an_incremental_sync_picks_up_new_and_late_events(server):
    config = _config(server)
    first = run_read(config, catalog(FLAMEUP, BEM))
    saved = parse_timestamp(_final_state(first, FLAMEUP)["timestamp"])
    rng = random.Random(1)
    late = flameup_events(
        20, saved - LOOKBACK + timedelta(seconds=1), saved - timedelta(seconds=1), WORKSPACE_ID, seed=8
    )
    fresh = flameup_events(20, saved, _now() - timedelta(seconds=1), WORKSPACE_ID, seed=9)
    server.flameup.events += late + fresh
    last_second = max(e["_created"][0] for e in server.bem.events)
    same_second = [bem_event_at(last_second, rng, 10_000 + i) for i in range(8)]
    server.bem.events += same_second

    second = run_read(config, catalog(FLAMEUP, BEM), _both_states(first))

    assert {e["id"] for e in late + fresh} <= set(keys(second, FLAMEUP))
    assert set(keys(first, FLAMEUP)) | set(keys(second, FLAMEUP)) == server.ground_truth()[FLAMEUP]
    assert {e["eventID"] for e in same_second} <= set(keys(second, BEM)), "bem, same-second events"
    assert len(keys(second, BEM)) == len(set(keys(second, BEM)))


@pytest.mark.parametrize("sort_by", ["id", "created"])
def test_bem_events_created_in_the_last_second_read_are_not_skipped(server, sort_by):
    server.bem.behaviour = BemBehaviour(sort_by=sort_by)
    config = _config(server)
    first = run_read(config, catalog(BEM))
    last_read = _final_state(first, BEM)["eventID"]
    rng = random.Random(2)
    before_it = []
    while len(before_it) < 5:  # same second as the last ID read, sorting before it
        candidate = ksuid(max(e["_created"][0] for e in server.bem.events), rng)
        if candidate < last_read:
            before_it.append({"eventID": candidate, "eventType": "error", "_created": (10**12, len(before_it))})
    server.bem.events += before_it

    second = run_read(config, catalog(BEM), state(BEM, _final_state(first, BEM)))

    assert {e["eventID"] for e in before_it} <= set(keys(second, BEM)), f"bem sorted by {sort_by}"
    assert len(keys(second, BEM)) == len(set(keys(second, BEM)))


_MUTATION_SCENARIOS = [
    pytest.param(
        request,
        newest_first,
        sort_by,
        id=f"after_request_{request}-flameup_{'newest' if newest_first else 'oldest'}_first-bem_by_{sort_by}",
    )
    for request, newest_first, sort_by in [
        (2, True, "id"),
        (5, False, "created"),
        (9, True, "created"),
        (14, False, "id"),
    ]
]


@pytest.mark.parametrize("at_request, newest_first, sort_by", _MUTATION_SCENARIOS)
def test_events_added_while_a_sync_pages_are_caught_by_that_sync_or_the_next(server, at_request, newest_first, sort_by):
    server.flameup.behaviour = FlameupBehaviour(newest_first=newest_first)
    server.bem.behaviour = BemBehaviour(sort_by=sort_by)
    now = _now()
    rng = random.Random(at_request)
    late_and_new = flameup_events(
        30, now - timedelta(minutes=8), now - timedelta(seconds=1), WORKSPACE_ID, seed=at_request
    )
    last_second = max(e["_created"][0] for e in server.bem.events)
    bem_added = [bem_event_at(last_second, rng, 20_000 + i) for i in range(4)] + [
        bem_event_at(int(now.timestamp()), rng, 20_010 + i) for i in range(10)
    ]
    server.mutations.append(Mutation(at_request=at_request, flameup_events=late_and_new, bem_events=bem_added))
    at_start = server.ground_truth()
    config = _config(server)

    full = run_read(config, catalog(FLAMEUP, BEM))
    at_end = server.ground_truth()
    incremental = run_read(config, catalog(FLAMEUP, BEM), _both_states(full))

    for stream in (FLAMEUP, BEM):
        emitted = set(keys(full, stream))
        assert at_start[stream] <= emitted <= at_end[stream], stream
        assert emitted | set(keys(incremental, stream)) == at_end[stream], stream


@pytest.mark.parametrize("stream", [FLAMEUP, BEM])
def test_a_sync_resumed_from_any_state_message_it_emitted_loses_nothing(server, stream):
    # page size 2: Flameup windows of at most 2 * MAX_PAGES_PER_WINDOW events, so several checkpoints
    config = _config(server, start_date="2026-11-01T00:00:00Z", page_size=2)
    full = run_read(config, catalog(stream))
    everything = server.ground_truth()[stream]
    assert_exactly_once(keys(full, stream), everything, f"{stream} full sync")

    emitted, checkpoints = [], 0
    for message in full.records_and_state_messages:
        if message.record:
            emitted.append(message.record.data[PRIMARY_KEYS[stream]])
            continue
        checkpoints += 1
        resumed = run_read(config, catalog(stream), state(stream, message.state.stream.stream_state.__dict__))
        assert set(emitted) | set(keys(resumed, stream)) == everything, f"resumed from checkpoint {checkpoints}"
    # the final state at least; Flameup's windows are read at once here (unpaced) and state moves only over
    # finished ones, so how many come before it depends on which finishes first (usually several)
    assert checkpoints >= 1


def test_a_future_flameup_state_reads_nothing_and_still_emits_its_state(server):
    future = {"timestamp": "2099-01-01T00:00:00.000000Z"}

    output = run_read(_config(server), catalog(FLAMEUP), state(FLAMEUP, future))

    (emitted,) = states_of(output, FLAMEUP)
    assert keys(output, FLAMEUP) == [] and {k: v for k, v in emitted.items() if k != SCOPE_KEY} == future
    assert emitted[SCOPE_KEY]["workspace_id"] == WORKSPACE_ID  # what it was read with, from now on
    assert server.request_count == 0


def test_a_bem_state_at_the_newest_event_reads_no_more_than_its_lookback_and_keeps_its_state(server):
    newest = max(e["eventID"] for e in server.bem.events)
    saved = {"eventID": newest, "starting_after": newest}

    output = run_read(_config(server), catalog(BEM), state(BEM, saved))

    # nothing after the saved position: the newest-first reader reads the lookback under it again, no further
    newest_second = ksuid_seconds(newest)
    assert all(ksuid_seconds(i) >= newest_second - BEM_LOOKBACK_SECONDS for i in keys(output, BEM))
    assert positions_of(output, BEM)[-1] == saved


@pytest.mark.parametrize("kind", ["rate_limit", "unavailable"])
def test_throttling_and_unavailability_mid_sync_are_retried_without_losing_events(server, clock, kind):
    server.faults += [Fault(kind=kind, at_request=3, times=2), Fault(kind=kind, at_request=12, times=1)]
    config = _config(server, start_date="2026-11-01T00:00:00Z")

    output = run_read(config, catalog(FLAMEUP, BEM))

    assert len(server.served_faults) == 3 and len(clock.retries) == 3
    truth = server.ground_truth()
    assert_exactly_once(keys(output, FLAMEUP), truth[FLAMEUP], f"flameup under {kind}")
    assert_exactly_once(keys(output, BEM), truth[BEM], f"bem under {kind}")


FIVE_DAYS_AGO = (_now() - timedelta(days=5)).strftime("%Y-%m-%dT00:00:00Z")


@pytest.mark.parametrize(
    "stream, narrower, changed",
    [
        (FLAMEUP, {"event": "page_view"}, "`flameup.event`"),
        (FLAMEUP, {"start_date": FIVE_DAYS_AGO}, "`flameup.start_date`"),
        (BEM, {"event_types": ["transform"]}, "`bem.event_types`"),
    ],
    ids=["flameup_filter_removed", "flameup_start_date_earlier", "bem_filter_removed"],
)
def test_a_state_saved_under_other_settings_is_not_resumed_from_and_nothing_is_skipped(
    server, caplog, stream, narrower, changed
):
    """A connection's settings edited in place keep its state. 0.5.14 resumed from it: the history the new settings
    add (the events of other types, the weeks before the old start date) under the state was never read."""
    section = "flameup" if stream == FLAMEUP else "bem"
    narrow_config = _config(server)
    narrow_config[section] = {**narrow_config[section], **narrower}
    narrow = run_read(narrow_config, catalog(stream))
    truth = server.ground_truth()[stream]  # every event: none filtered out, none before the start date
    assert 0 < len(set(keys(narrow, stream))) < len(truth)

    output = run_read(
        _config(server), catalog(stream), StateBuilder().with_stream_state(stream, _final_state(narrow, stream)).build()
    )

    assert_exactly_once(keys(output, stream), truth, f"{changed} widened, resumed from the narrower state")
    said = [r.getMessage() for r in caplog.records if "its saved state was read with other settings" in r.getMessage()]
    assert len(said) == 1 and f"({changed} changed since)" in said[0], said
    # its state says what it was read with: a sync with the same settings resumes from it
    resumed = StateBuilder().with_stream_state(stream, _final_state(output, stream)).build()
    assert len(keys(run_read(_config(server), catalog(stream), resumed), stream)) < len(truth) / 2


@pytest.mark.parametrize("stream", [FLAMEUP, BEM])
def test_a_state_read_from_another_server_is_not_resumed_from(server, caplog, stream):
    """A state read from another server (another account's events, the demo's emulator) passed to a read of this
    one: 0.5.16 resumed bem from that state's position, read 5 of 505 events and exited 0 (fresh-clone review). The
    state names the server it was read from: this one reads its stream from the start, and says why."""
    section = "flameup" if stream == FLAMEUP else "bem"
    end = _now() - timedelta(seconds=5)
    elsewhere = EmulatorServer(
        FlameupApi(
            WORKSPACE_ID, FLAMEUP_API_KEY, flameup_events(300, end - timedelta(days=20), end, WORKSPACE_ID, seed=7)
        ),
        BemApi(BEM_API_KEY, bem_events(300, end - timedelta(days=2), end, seed=7)),
    )
    with elsewhere:
        there = run_read(_config(elsewhere), catalog(stream))

    output = run_read(
        _config(server), catalog(stream), StateBuilder().with_stream_state(stream, _final_state(there, stream)).build()
    )

    assert_exactly_once(keys(output, stream), server.ground_truth()[stream], "resumed from another server's state")
    said = [r.getMessage() for r in caplog.records if "its saved state was read with other settings" in r.getMessage()]
    assert len(said) == 1 and f"(`{section}.base_url` changed since)" in said[0], said


def _both_states(output):
    builder = StateBuilder()
    for stream in (FLAMEUP, BEM):
        states = states_of(output, stream)
        if states:
            builder.with_stream_state(stream, states[-1])
    return builder.build()
