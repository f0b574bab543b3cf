"""Each Flameup switch for an undocumented behaviour, shown to fire over real HTTP."""

import pytest

from source_events.emulator import FlameupBehaviour
from source_events.emulator.datasets import flameup_events
from source_events.emulator.timestamps import parse_date_time
from testkit.builders import a_flameup_event, utc
from unit_tests.emulator.calls import flameup_get, flameup_ids


@pytest.mark.parametrize(
    "since_inclusive, until_inclusive, precision, expected",
    [
        (True, True, "microsecond", ["on_since", "half_past_since", "inside", "on_until"]),
        (False, False, "microsecond", ["half_past_since", "inside"]),
        # compared per second, 00:00:00.5 equals a since of 00:00:00
        (True, False, "second", ["on_since", "half_past_since", "inside"]),
        (False, True, "second", ["inside", "on_until"]),
    ],
)
def test_since_until_follow_the_chosen_reading(server, since_inclusive, until_inclusive, precision, expected):
    stamps = {
        "on_since": "2026-01-01T00:00:00Z",
        "half_past_since": "2026-01-01T00:00:00.5Z",
        "inside": "2026-01-01T12:00:00Z",
        "on_until": "2026-01-02T00:00:00Z",
    }
    server.flameup.events = [a_flameup_event(stamp, id=name) for name, stamp in stamps.items()]
    server.flameup.behaviour = FlameupBehaviour(
        since_inclusive=since_inclusive,
        until_inclusive=until_inclusive,
        compare_precision=precision,
        newest_first=False,
    )

    body = flameup_get(server, since="2026-01-01T00:00:00Z", until="2026-01-02T00:00:00Z", limit=100).json()

    assert [e["id"] for e in body["events"]] == expected
    assert body["total"] == len(expected)


def test_newest_first_or_oldest_first(server):
    server.flameup.events = [a_flameup_event(f"2026-01-0{d}T00:00:00Z", id=f"d{d}") for d in (2, 1, 3)]
    server.flameup.behaviour = FlameupBehaviour(newest_first=True)
    assert flameup_ids(server) == ["d3", "d2", "d1"]
    server.flameup.behaviour = FlameupBehaviour(newest_first=False)
    assert flameup_ids(server) == ["d1", "d2", "d3"]


@pytest.mark.parametrize("newest_first", [True, False])
def test_filter_field_created_at_filters_and_sorts_on_ingestion_time(server, newest_first):
    server.flameup.events = [
        # happened long before the window, received inside it: an offline client
        a_flameup_event("2025-12-20T00:00:00Z", id="offline", created_at="2026-01-01T10:00:00Z"),
        a_flameup_event("2026-01-01T05:00:00Z", id="online", created_at="2026-01-01T05:00:01Z"),
        # happened inside the window, received after it
        a_flameup_event("2026-01-01T23:59:59Z", id="received_late", created_at="2026-01-02T00:00:03Z"),
    ]
    window = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z", "limit": 100}

    server.flameup.behaviour = FlameupBehaviour(newest_first=newest_first)
    by_timestamp = flameup_ids(server, **window)
    server.flameup.behaviour = FlameupBehaviour(filter_field="created_at", newest_first=newest_first)
    by_created_at = flameup_ids(server, **window)

    order = (lambda ids: ids[::-1]) if newest_first else (lambda ids: ids)
    assert by_timestamp == order(["online", "received_late"])
    assert by_created_at == order(["online", "offline"])


def _events(count: int) -> list[dict]:
    """`count` events a minute apart, oldest first, named by their order."""
    return [a_flameup_event(f"2026-01-01T{i // 60:02d}:{i % 60:02d}:00Z", id=f"e{i:03d}") for i in range(count)]


def test_hidden_events_are_cut_into_pages_and_then_removed_short_pages_mid_listing(server):
    server.flameup.events = _events(200)
    server.flameup.behaviour = FlameupBehaviour(hidden_share=0.3, newest_first=False, total="exact")
    hidden = {e["id"] for e in server.flameup.events if server.flameup.hidden(e)}
    visible = [e["id"] for e in server.flameup.events if e["id"] not in hidden]

    pages = [flameup_get(server, limit=20, offset=offset).json() for offset in range(0, 220, 20)]

    assert 40 <= len(hidden) <= 80  # about 30 % of 200
    assert [e["id"] for page in pages for e in page["events"]] == visible  # offsets count the hidden events
    assert all(0 < len(page["events"]) < 20 for page in pages[:-1])  # short pages although more follow
    assert pages[-1]["events"] == []
    assert {page["total"] for page in pages} == {200}  # "exact": the whole filtered set, hidden included
    assert server.ground_truth()["flameup_events"] == set(visible)


def test_a_cut_of_hidden_events_only_answers_the_next_visible_event_never_an_empty_page(server):
    server.flameup.events = _events(60)
    server.flameup.behaviour = FlameupBehaviour(hidden_share=0.5, newest_first=False)
    listing = [e["id"] for e in server.flameup.events]
    visible = [i for i in listing if not server.flameup.hidden({"id": i})]
    last_visible = listing.index(visible[-1])

    answers = {offset: flameup_ids(server, limit=1, offset=offset) for offset in range(len(listing) + 1)}

    hidden_offsets = [o for o in range(last_visible) if listing[o] not in visible]
    assert hidden_offsets  # the case under test happens
    for offset in hidden_offsets:
        following = next(i for i in listing[offset:] if i in visible)
        assert answers[offset] == [following]
    assert all(answers[o] == [] for o in range(last_visible + 1, len(listing) + 1))


def test_total_visible_counts_only_what_the_key_sees(server):
    server.flameup.events = _events(100)
    server.flameup.behaviour = FlameupBehaviour(hidden_share=0.25, total="visible")
    seen = len(server.ground_truth()["flameup_events"])

    assert flameup_get(server, limit=10).json()["total"] == seen < 100
    server.flameup.behaviour = FlameupBehaviour(hidden_share=0.25, total="exact")
    assert flameup_get(server, limit=10).json()["total"] == 100


def test_hidden_is_decided_by_the_event_id_alone(server):
    server.flameup.behaviour = FlameupBehaviour(hidden_share=0.5)
    ids = [f"evt_{n:032x}" for n in range(1000)]
    first = [server.flameup.hidden({"id": i}) for i in ids]
    assert first == [server.flameup.hidden({"id": i, "event": "other"}) for i in ids]
    assert 400 < sum(first) < 600


def test_offline_clients_stamp_events_minutes_to_days_before_they_arrive():
    start, end = utc("2026-01-01T00:00:00Z"), utc("2026-02-01T00:00:00Z")
    online = flameup_events(2000, start, end, "ws", seed=9)
    mixed = flameup_events(2000, start, end, "ws", seed=9, offline_share=0.15)

    def delay(event) -> float:
        return (parse_date_time(event["created_at"]) - parse_date_time(event["timestamp"])).total_seconds()

    # online: received 0-5 s after the timestamp, which may be cut to whole seconds (up to 1 s more)
    assert all(0 <= delay(e) <= 6 for e in online)
    late = [e for e in mixed if delay(e) > 6]
    assert 0.12 * 2000 < len(late) < 0.18 * 2000
    assert all(60 <= delay(e) <= 3 * 86_400 + 1 for e in late)
    assert min(delay(e) for e in late) < 3600 and max(delay(e) for e in late) > 86_400  # minutes to days
    # the same events otherwise: only some timestamps moved back
    assert [{**e, "timestamp": None} for e in online] == [{**e, "timestamp": None} for e in mixed]
