"""Exactness against the emulator over real HTTP: over the undocumented behaviours (bounds, precision,
sort order, capped pages, what `total` counts, bem's sort key) x data shapes x page sizes, a full sync
emits every event exactly once. Bounded, derandomised hypothesis runs: the same examples on every run."""

import random
import time
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.test.state_builder import StateBuilder
from hypothesis import example, given, note
from hypothesis import strategies as st

from source_events.bem.ksuid import ksuid_seconds
from source_events.common.timestamps import parse_timestamp
from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_event_at, bem_events, flameup_events
from source_events.emulator.ids import ksuid
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer
from testkit.builders import BEM, FLAMEUP, catalog, run_read, states_of
from testkit.emulator import assert_exactly_once, emulator_config, keys
from testkit.properties import property_settings

# Python 3.10 has no datetime.UTC. The tests below keep writing `UTC`: derandomised hypothesis draws its
# examples from each test's source text, so an edit inside a test would change which examples run.
UTC = timezone.utc

_PROPERTY = property_settings(30)


@pytest.fixture(scope="module")
def server():
    with EmulatorServer(FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, []), BemApi(BEM_API_KEY, [])) as running:
        yield running


flameup_behaviours = st.builds(
    FlameupBehaviour,
    since_inclusive=st.booleans(),
    until_inclusive=st.booleans(),
    compare_precision=st.sampled_from(["second", "microsecond"]),
    newest_first=st.booleans(),
    limit_cap=st.sampled_from([7, 37, 100, 1000]),
    total=st.sampled_from(["exact", "under", "capped", "unfiltered", "changing", "absent"]),
    total_fraction=st.sampled_from([0.0, 0.5, 0.9]),
    total_cap=st.sampled_from([0, 40, 10_000]),
    past_the_end=st.sampled_from(["empty", "last_page"]),
)


@_PROPERTY
@given(
    behaviour=flameup_behaviours,
    count=st.integers(0, 400),
    span_days=st.sampled_from([0.01, 1, 8, 60]),
    page_size=st.sampled_from([5, 50, 100, 250]),
    seed=st.integers(0, 10_000),
)
def test_a_full_flameup_sync_emits_every_event_exactly_once(server, behaviour, count, span_days, page_size, seed):
    end = datetime.now(UTC) - timedelta(seconds=2)
    start = end - timedelta(days=span_days)
    server.flameup.events = flameup_events(count, start, end, WORKSPACE_ID, seed=seed)
    server.flameup.behaviour = behaviour
    scenario = f"{behaviour!r}, {count} events over {span_days} days, page_size={page_size}, seed={seed}"
    note(scenario)
    # start at a midnight, so that window bounds fall on midnights, where the data puts events
    first_window = (start - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    config = emulator_config(server, flameup={"start_date": _iso(first_window), "page_size": page_size})

    output = run_read(config, catalog(FLAMEUP))

    assert_exactly_once(keys(output, FLAMEUP), server.ground_truth()[FLAMEUP], scenario)


bem_behaviours = st.builds(
    BemBehaviour,
    sort_by=st.sampled_from(["id", "created", "second"]),
    asc_ties=st.sampled_from(["id", "id_reversed", "insertion", "insertion_reversed"]),
    desc_ties=st.sampled_from(["id", "id_reversed", "insertion", "insertion_reversed"]),
    honours_sort_order=st.booleans(),
    unknown_cursor=st.sampled_from(["reject", "empty", "from_start"]),
)


def _bem_history(count: int, seed: int, dense: bool, skewed: bool = False) -> list[dict]:
    """`count` events over three days, or, `dense`, crowded into a few seconds of hundreds each; `skewed`, with
    IDs minted by clocks a second off the one that orders the listing when it is sorted by creation."""
    end = datetime.now(UTC) - timedelta(seconds=30)
    start = end - (timedelta(seconds=4) if dense else timedelta(days=3))
    return bem_events(count, start, end, seed=seed, id_clock_skew=1 if skewed else 0)


@_PROPERTY
@given(
    behaviour=bem_behaviours,
    count=st.integers(0, 400),
    dense=st.booleans(),
    skewed=st.booleans(),
    page_size=st.sampled_from([1, 7, 50, 100]),
    seed=st.integers(0, 10_000),
)
def test_a_full_bem_sync_emits_every_event_exactly_once(server, behaviour, count, dense, skewed, page_size, seed):
    server.bem.clock = time.time
    server.bem.events = _bem_history(count, seed, dense, skewed)
    server.bem.behaviour = behaviour
    scenario = (
        f"{behaviour!r}, {count} events{' in a few seconds' if dense else ''}, page_size={page_size}, seed={seed}"
    )
    note(scenario)

    output = run_read(emulator_config(server, bem={"page_size": page_size}), catalog(BEM))

    assert_exactly_once(keys(output, BEM), server.ground_truth()[BEM], scenario)
    final = states_of(output, BEM)[-1] if count else {}
    assert len(final.get("already_read", [])) <= max(_events_per_second(server.bem.events).values(), default=0)


_RECOVERY_PROPERTY = property_settings(12)


@_RECOVERY_PROPERTY
@given(
    behaviour=bem_behaviours,
    vanish=st.sampled_from(["deleted", "expired"]),
    count=st.integers(1, 60),
    new=st.integers(0, 30),
    same_second=st.integers(0, 5),
    dense=st.booleans(),
    skewed=st.booleans(),
    page_size=st.sampled_from([3, 7, 25]),
    seed=st.integers(0, 10_000),
)
# found by exploring (EXACTNESS_EXPLORE): `sortOrder` ignored, the saved position rejected or ignored
@example(
    behaviour=BemBehaviour(sort_by="created", honours_sort_order=False, unknown_cursor="reject"),
    vanish="deleted",
    count=5,
    new=0,
    same_second=3,
    dense=False,
    skewed=True,
    page_size=3,
    seed=202,
)
@example(
    behaviour=BemBehaviour(sort_by="id", honours_sort_order=False, unknown_cursor="from_start"),
    vanish="deleted",
    count=46,
    new=29,
    same_second=0,
    dense=False,
    skewed=False,
    page_size=3,
    seed=38,
)
@example(
    behaviour=BemBehaviour(sort_by="id", honours_sort_order=False, unknown_cursor="from_start"),
    vanish="deleted",
    count=4,
    new=0,
    same_second=1,
    dense=True,
    skewed=False,
    page_size=3,
    seed=2,
)
def test_a_bem_sync_whose_saved_position_vanished_loses_nothing_even_when_killed_at_any_state(
    server, behaviour, vanish, count, new, same_second, dense, skewed, page_size, seed
):
    """The events the state names are deleted (or expire), events arrive after them, some in the last second
    read; the next sync, and that sync killed after any of its state messages and resumed, emit them all."""
    now = int(time.time())
    server.bem.clock = lambda: now  # what has expired does not change while the test runs
    server.bem.behaviour = behaviour
    server.bem.events = _bem_history(count, seed, dense, skewed)
    scenario = f"{behaviour!r}, {vanish}, skewed={skewed}, {count} events, +{new} new, +{same_second} in the last second, page_size={page_size}, seed={seed}"
    note(scenario)
    config = emulator_config(server, bem={"page_size": page_size})
    first = run_read(config, catalog(BEM))
    saved = states_of(first, BEM)[-1]
    last_second = ksuid_seconds(saved["eventID"])
    if vanish == "deleted":
        named = {saved["eventID"], saved["starting_after"]}
        server.bem.events = [e for e in server.bem.events if e["eventID"] not in named]
    else:  # everything up to the last second read expires
        server.bem.behaviour = behaviour.model_copy(update={"retention_seconds": now - last_second - 1})
    rng = random.Random(f"late events {seed}")  # not the history's seed: an ID is never made twice
    for i in range(same_second):  # created in the last second read, after it was read
        late = bem_event_at(last_second, rng, 20_000 + i)
        if skewed:
            late["eventID"] = ksuid(last_second + rng.randint(-1, 1), rng)
        server.bem.events.append(late)
    arrived = datetime.now(UTC)
    server.bem.events += bem_events(
        new, arrived - timedelta(seconds=20), arrived, seed=seed + 1, id_clock_skew=1 if skewed else 0
    )
    expected = server.ground_truth()[BEM] - set(keys(first, BEM))

    second = run_read(config, catalog(BEM), StateBuilder().with_stream_state(BEM, saved).build())

    assert expected <= set(keys(second, BEM)), scenario
    emitted_before: list[str] = []
    for message in second.records_and_state_messages:
        if message.record:
            emitted_before.append(message.record.data["eventID"])
            continue
        resumed_state = message.state.stream.stream_state.__dict__
        resumed = run_read(config, catalog(BEM), StateBuilder().with_stream_state(BEM, resumed_state).build())
        assert expected <= set(emitted_before) | set(keys(resumed, BEM)), f"{scenario}, resumed from {resumed_state}"


def _events_per_second(events: list[dict]) -> dict[int, int]:
    seconds: dict[int, int] = {}
    for event in events:
        seconds[event["_created"][0]] = seconds.get(event["_created"][0], 0) + 1
    return seconds


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@_PROPERTY
@given(
    behaviour=flameup_behaviours,
    sort_by=st.sampled_from(["id", "created"]),
    late=st.integers(0, 30),
    fresh=st.integers(0, 30),
    same_second=st.integers(0, 8),
    page_size=st.sampled_from([5, 50, 100]),
    seed=st.integers(0, 10_000),
)
def test_an_incremental_sync_after_new_late_and_same_second_events_completes_the_set(
    server, behaviour, sort_by, late, fresh, same_second, page_size, seed
):
    now = datetime.now(UTC)
    server.flameup.events = flameup_events(
        150, now - timedelta(days=9), now - timedelta(seconds=2), WORKSPACE_ID, seed=seed
    )
    server.flameup.behaviour = behaviour
    server.bem.events = bem_events(150, now - timedelta(hours=2), now, seed=seed)
    server.bem.behaviour = BemBehaviour(sort_by=sort_by)
    # `now` too: the data hang on the wall clock (a failure seen once in CI did not repeat; midnight may matter)
    scenario = f"{behaviour!r}, bem by {sort_by}, +{late} late, +{fresh} new, +{same_second} same-second, page_size={page_size}, seed={seed}, now {now.isoformat()}"
    note(scenario)
    config = emulator_config(
        server,
        flameup={"start_date": _iso(now - timedelta(days=10)), "page_size": page_size, "lookback_window_minutes": 10},
        bem={"page_size": min(page_size, 100)},
    )
    first = run_read(config, catalog(FLAMEUP, BEM))
    saved = parse_timestamp(states_of(first, FLAMEUP)[-1]["timestamp"])
    rng = random.Random(f"late events {seed}")  # not the history's seed: an ID is never made twice
    server.flameup.events += flameup_events(
        late, saved - timedelta(minutes=9, seconds=59), saved, WORKSPACE_ID, seed=seed + 1
    )
    server.flameup.events += flameup_events(fresh, saved, datetime.now(UTC), WORKSPACE_ID, seed=seed + 2)
    last_second = max(e["_created"][0] for e in server.bem.events)
    server.bem.events += [bem_event_at(last_second, rng, 10_000 + i) for i in range(same_second)]
    bem_before = {e["eventID"] for e in server.bem.events} - set(keys(first, BEM))

    second = run_read(config, catalog(FLAMEUP, BEM), _states(first))

    truth = server.ground_truth()
    assert set(keys(first, FLAMEUP)) | set(keys(second, FLAMEUP)) == truth[FLAMEUP], scenario
    assert bem_before <= set(keys(second, BEM)), scenario  # and the lookback's events, read again
    assert len(keys(second, BEM)) == len(set(keys(second, BEM))), scenario


def _states(output):
    builder = StateBuilder()
    for stream in (FLAMEUP, BEM):
        builder.with_stream_state(stream, states_of(output, stream)[-1])
    return builder.build()
