"""A bem sync resumed from a killed one ends on the lookback the killed one stood on, not on its last ID.

The oldest-first reader's position in a state written while a sync reads is its last ID, where it reads on. A
sync that ends reading from there must still resume the next one a lookback under the newest event read, so that
events listed late behind IDs already read are read then. 0.5.12 ended such a sync on its last ID, with no
`eventID` when it read nothing more (a state every later sync refused), and past the lookback otherwise
(adversary review). The syncs are driven by hand, one page at a time, against the emulator's listing.
"""

import pytest

from source_events.bem.reading import BemReading
from source_events.bem.state import BemState
from source_events.emulator import BemApi, BemBehaviour
from testkit.builders import BEM_KEY, bem_answer, bem_events_in_seconds

_T0 = 1_790_000_000
LOOKBACK = 30
PAGE = 10
BOTH = ("oldest_first", "newest_first")


def _listing(honours_sort_order: bool) -> tuple[BemApi, list[str]]:
    """60 events, one a second: the oldest-first reader's pages of 10 resume before their last second, at IDs 8, 17,
    26, 35, 44, 53, 58, then 59 (its last page, one second)."""
    bem = BemApi(BEM_KEY, bem_events_in_seconds({_T0 + s: 1 for s in range(60)}, seed=3))
    bem.behaviour = BemBehaviour(honours_sort_order=honours_sort_order)
    return bem, sorted(e["eventID"] for e in bem.events)


def _sync(bem: BemApi, saved: BemState, partitions=BOTH, killed_at=None) -> tuple[list[str], BemState]:
    """One sync, its partitions taking turns a page at a time: the IDs emitted and the last state written.
    `killed_at(state)`: the sync is killed once it wrote such a state."""
    reading, emitted, state = BemReading(saved, page_size=PAGE, lookback_seconds=LOOKBACK), [], saved
    reading_on = list(partitions)
    while reading_on:
        for partition in list(reading_on):
            request = reading.request(partition)
            if request is None:
                reading_on.remove(partition)
                continue
            emitted += reading.take(partition, bem_answer(bem, request))
            if reading.handed_on(partition):
                state = reading.state
                if killed_at is not None and killed_at(state):
                    return emitted, state
    return emitted, reading.state


def _standing_after(event_id: str):
    return lambda state: state.reading is not None and state.reading.oldest_first.starting_after == event_id


@pytest.mark.parametrize("honours_sort_order", [True, False], ids=["sort-order-honoured", "sort-order-ignored"])
def test_a_sync_resumed_where_the_oldest_first_reader_stood_at_the_end_ends_on_a_state_the_next_sync_takes(
    honours_sort_order,
):
    bem, listed = _listing(honours_sort_order)
    # the newest-first partition started late (a loaded machine): killed once the other read the last page
    _, killed = _sync(bem, BemState(), partitions=("oldest_first",), killed_at=_standing_after(listed[-1]))
    assert killed.eventID is None and killed.reading is not None  # a first sync, still reading

    _, final = _sync(bem, BemState.from_saved(killed.to_saved()))

    assert final.reading is None and final.eventID == listed[-1]  # 0.5.12: eventID None
    again = BemState.from_saved(final.to_saved())  # 0.5.12: "no `eventID` event ID", a config error, for good
    emitted, _ = _sync(bem, again)
    assert set(listed[-LOOKBACK:]) <= set(emitted)  # it reads the lookback under the newest event again


@pytest.mark.parametrize("honours_sort_order", [True, False], ids=["sort-order-honoured", "sort-order-ignored"])
def test_an_event_listed_late_behind_where_a_killed_sync_stood_is_read_by_the_next_sync(honours_sort_order):
    bem, listed = _listing(honours_sort_order)
    # asking after 44, the reader's state names 39, further back (source_events.bem.anchor)
    _, killed = _sync(bem, BemState(), partitions=("oldest_first",), killed_at=_standing_after(listed[39]))
    assert killed.reading.oldest_first.starting_after == listed[39]  # killed where it stood
    # listed late: created at second 36, under where the reader stood (39) and within the lookback of the newest (59)
    late = bem_events_in_seconds({_T0 + 36: 1}, seed=99)[0]
    bem.events.append(late)

    resumed, final = _sync(bem, BemState.from_saved(killed.to_saved()))
    following, _ = _sync(bem, BemState.from_saved(final.to_saved()))

    assert set(listed[40:]) <= set(resumed)
    assert late["eventID"] in set(resumed) | set(following)  # 0.5.12: the resumed sync ended on its position: lost


@pytest.mark.parametrize("honours_sort_order", [True, False], ids=["sort-order-honoured", "sort-order-ignored"])
def test_a_state_0_5_12_ended_on_without_event_id_is_read_again_from_the_start(honours_sort_order, caplog):
    """0.5.12 ended such syncs on `{"eventID": null, "starting_after": <its position>}`: its lookback under that
    position is lost, so the listing is read again (duplicates), and an event listed late under it is read."""
    bem, listed = _listing(honours_sort_order)
    late = bem_events_in_seconds({_T0 + 36: 1}, seed=99)[0]  # under the position (39), within the lookback
    bem.events.append(late)

    emitted, final = _sync(bem, BemState.from_saved({"eventID": None, "starting_after": listed[39]}))

    assert late["eventID"] in emitted and set(listed) <= set(emitted)
    assert final.eventID == listed[-1] and final.reading is None
    assert any("read again from its start" in r.getMessage() for r in caplog.records)  # said, not silent
