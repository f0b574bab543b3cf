"""bem paging within one creation second. bem's IDs order events only to the second, and its docs say neither what
the listing is sorted by nor how `startingAfter` is matched: an API may resume after the **second** of the ID named
(a keyset on a creation time kept to the second: the rest of that second is skipped), or list a second's events in
a new order on each request (no tie-breaker). Each page's next request names the last ID before the page's last
second (source_events.bem.anchor), which lists that second again whole. Resuming after the page's last ID, as 0.5.17
did, lost 256 of 1,200 events at pages of 7 and 20 at pages of 100, exit code 0 (adversary review). IDs minted by
clocks a second or two off can put that ID in the very creation second of the page's last events: 0.5.18 lost 99 of
1,055 at pages of 7; an answer showing events skipped makes each request name an ID further back (adversary review).
"""

import random

import pytest
from airbyte_cdk.test.state_builder import StateBuilder
from hypothesis import given, note
from hypothesis import strategies as st

from source_events.bem.state import MARGIN_SECONDS
from source_events.emulator import BemApi, BemBehaviour, FlameupApi
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer
from testkit.builders import BEM, bem_events_in_seconds, catalog, run_read, states_of
from testkit.emulator import assert_exactly_once, emulator_config, keys
from testkit.properties import property_settings

_PROPERTY = property_settings(12)

# (reading, how far IDs' clocks may be off, up to MARGIN_SECONDS, page size): an answer to a reader resuming after an
# ID's second shows the skip whenever that ID lay in the page's last creation second (the page's last event goes
# missing). A second's events reordered on each request may hide it, but IDs whose seconds go back along a listing by
# creation time show their clocks off (anchor.Anchoring.note_order: 0.5.19 lost 2 of 685 at pages of 100, IDs 1 s
# off); at pages of 7, which span a few seconds only, 1-4 of 700 are still lost now and then (Known limits)
_reordered_seconds = st.builds(
    BemBehaviour,
    sort_by=st.just("second"),
    asc_ties=st.sampled_from(["per_request", "id"]),
    desc_ties=st.sampled_from(["per_request", "insertion"]),
    starting_after=st.sampled_from(["exclusive", "inclusive"]),
).filter(lambda b: "per_request" in (b.asc_ties, b.desc_ties))
readings = st.one_of(
    # the rest of the named event's second skipped, whatever the listing is sorted by
    st.tuples(
        st.builds(
            BemBehaviour,
            sort_by=st.sampled_from(["id", "created", "second"]),
            starting_after=st.just("after_second"),
            honours_sort_order=st.booleans(),
        ),
        st.sampled_from([0, 1, MARGIN_SECONDS]),
        st.sampled_from([7, 100]),
    ),
    # a second's events in a new order on each request, in one direction or both
    st.tuples(_reordered_seconds, st.just(0), st.sampled_from([7, 100])),
    st.tuples(_reordered_seconds, st.sampled_from([1, MARGIN_SECONDS]), st.just(100)),
)
# the listing's clock: an hour of history up to it (fixed, so that each example's IDs are the same on every run)
_NOW = 1_790_000_000


@pytest.fixture(scope="module")
def server():
    with EmulatorServer(FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, []), BemApi(BEM_API_KEY, [])) as running:
        yield running


def _seconds(rng: random.Random, start: int, seconds: int, most: int) -> dict[int, int]:
    """`seconds` seconds from `start`, each 5 s apart and holding 1 to `most` events."""
    return {start + 5 * s: rng.randint(1, most) for s in range(seconds)}


@_PROPERTY
@given(reading=readings, seed=st.integers(0, 10_000))
def test_a_bem_listing_paged_within_a_second_its_own_way_loses_no_event(server, reading, seed):
    """Seconds of up to 6 events (less than a page), their IDs minted by clocks up to `id_clock_skew` seconds off, a
    full sync, the same sync killed after one of its states and resumed, then an incremental one after more such
    seconds: every event once in the first, every event in the killed and resumed one, every new one in the last."""
    behaviour, id_clock_skew, page_size = reading
    rng = random.Random(seed)
    now = _NOW
    server.bem.clock = lambda: _NOW
    server.bem.behaviour = behaviour
    history = _seconds(rng, now - 3_600, 200, 6)
    assert any(count > 1 for count in history.values()), "no second holds two events"
    server.bem.events = bem_events_in_seconds(history, seed=seed, id_clock_skew=id_clock_skew)
    scenario = f"{behaviour!r}, page_size={page_size}, IDs up to {id_clock_skew} s off, seed={seed}"
    note(scenario)
    config = emulator_config(server, bem={"page_size": page_size})

    first = run_read(config, catalog(BEM))

    assert_exactly_once(keys(first, BEM), server.ground_truth()[BEM], scenario)
    # killed after one of its states (drawn by the seed) and resumed from it: every event, before or after
    emitted_before, states = [], []
    for message in first.records_and_state_messages:
        if message.record:
            emitted_before.append(message.record.data["eventID"])
        else:
            states.append((len(emitted_before), message.state.stream.stream_state.__dict__))
    cut, killed_at = states[rng.randrange(len(states))]
    resumed = run_read(config, catalog(BEM), StateBuilder().with_stream_state(BEM, killed_at).build())
    lost = server.ground_truth()[BEM] - set(emitted_before[:cut]) - set(keys(resumed, BEM))
    assert not lost, f"{scenario}, resumed from {killed_at}: {len(lost)} lost"
    new = bem_events_in_seconds(_seconds(rng, now - 200, 30, 6), seed=seed + 1, id_clock_skew=id_clock_skew)
    server.bem.events = server.bem.events + new
    saved = StateBuilder().with_stream_state(BEM, states_of(first, BEM)[-1]).build()

    second = run_read(config, catalog(BEM), saved)

    missing = {e["eventID"] for e in new} - set(keys(second, BEM))
    assert not missing, f"{scenario}: {len(missing)} new events missing"
