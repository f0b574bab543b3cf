"""Exactness against the emulator over real HTTP: over the undocumented behaviours (bounds, precision,
sort order, capped pages, what `total` counts, bem's sort key) x data shapes x page sizes, a full sync
emits every event exactly once. Bounded, derandomised hypothesis runs: the same examples on every run."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from integration_tests.harness import assert_exactly_once, emulator_config, keys
from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer
from unit_tests.builders import BEM, FLAMEUP, catalog, run_read

_PROPERTY = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


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
    total=st.sampled_from(["exact", "unfiltered", "absent"]),
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


@_PROPERTY
@given(
    sort_by=st.sampled_from(["id", "created"]),
    count=st.integers(0, 400),
    page_size=st.sampled_from([1, 7, 50, 100]),
    seed=st.integers(0, 10_000),
)
def test_a_full_bem_sync_emits_every_event_exactly_once(server, sort_by, count, page_size, seed):
    end = datetime.now(UTC)
    server.bem.events = bem_events(count, end - timedelta(days=3), end, seed=seed)
    server.bem.behaviour = BemBehaviour(sort_by=sort_by)
    scenario = f"sorted by {sort_by}, {count} events, page_size={page_size}, seed={seed}"
    note(scenario)

    output = run_read(emulator_config(server, bem={"page_size": page_size}), catalog(BEM))

    assert_exactly_once(keys(output, BEM), server.ground_truth()[BEM], scenario)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
