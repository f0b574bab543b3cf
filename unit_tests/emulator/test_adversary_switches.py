"""The switches the adversary review added, shown to fire over real HTTP."""

from source_events.emulator import FlameupBehaviour
from testkit.builders import a_flameup_event
from unit_tests.emulator.calls import flameup_get, flameup_ids


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
