"""The switches the adversary review added, shown to fire over real HTTP."""

from source_events.emulator import BemBehaviour, FlameupBehaviour
from testkit.builders import a_flameup_event, bem_events_in_seconds
from unit_tests.emulator.calls import bem_ids, flameup_get, flameup_ids


def _thirty_events(server):
    server.flameup.events = [a_flameup_event(f"2026-01-01T00:00:{s:02d}Z", id=f"e{s:02d}") for s in range(30)]


def test_a_listing_capped_at_a_depth_serves_nothing_past_it(server):
    _thirty_events(server)
    server.flameup.behaviour = FlameupBehaviour(newest_first=False, max_offset=20)

    assert flameup_ids(server, limit=10, offset=10) == [f"e{s:02d}" for s in range(10, 20)]
    assert flameup_ids(server, limit=10, offset=15) == [f"e{s:02d}" for s in range(15, 20)]  # cut short at 20
    assert flameup_ids(server, limit=10, offset=20) == []  # 10 events follow, none served
    assert flameup_ids(server, limit=1, offset=25) == []


def test_a_listing_capped_at_a_depth_can_refuse_what_lies_past_it(server):
    _thirty_events(server)
    server.flameup.behaviour = FlameupBehaviour(newest_first=False, max_offset=20, beyond_max_offset="reject")

    assert flameup_ids(server, limit=10, offset=10) == [f"e{s:02d}" for s in range(10, 20)]
    refused = flameup_get(server, limit=10, offset=15)
    assert refused.status_code == 400
    assert "at most 20" in refused.json()["error"]["message"]


def test_ties_can_be_ordered_anew_on_each_request(server):
    server.flameup.events = [a_flameup_event("2026-01-01T00:00:00Z", id=f"t{n:02d}") for n in range(20)]
    server.flameup.behaviour = FlameupBehaviour(tie_order="per_request")
    orders = [flameup_ids(server, limit=100) for _ in range(3)]

    assert all(sorted(order) == [f"t{n:02d}" for n in range(20)] for order in orders)
    assert len({tuple(order) for order in orders}) == 3  # a new order each time
    server.flameup.behaviour = FlameupBehaviour(tie_order="stable")
    assert flameup_ids(server, limit=100) == flameup_ids(server, limit=100)


def test_the_event_ids_filter_can_be_ignored(server):
    server.bem.events = bem_events_in_seconds({1_780_000_000: 3, 1_780_000_001: 2})
    everything = bem_ids(server, limit=100)
    server.bem.behaviour = BemBehaviour(honours_event_ids=True)
    assert bem_ids(server, eventIDs=everything[2], limit=100) == [everything[2]]
    server.bem.behaviour = BemBehaviour(honours_event_ids=False)
    assert bem_ids(server, eventIDs=everything[2], limit=100) == everything
