"""flameup_events: offset paging that survives a capped `limit`, half-open time windows that are exact
under every reading of since/until, filters, and state (per window, full precision, lookback)."""

import itertools
import math
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from airbyte_cdk.models import SyncMode

from source_events.emulator import FlameupBehaviour
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW
from testkit.builders import (
    FLAMEUP,
    a_flameup_event,
    catalog,
    iso,
    record_ids,
    run_read,
    state,
    states_of,
    utc,
)

_MICROSECOND = timedelta(microseconds=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _flameup_requests(http):
    return [r for r in http.request_history if "/workspaces/" in r.url]


def _page_requests(http):
    """The requests that read pages of windows: not the sync's first look at its range (its first request,
    source_events.flameup.cursor), nor the window planner's `limit=1` probes."""
    return [r for r in _flameup_requests(http)[1:] if _query(r)["limit"] != ["1"]]


def _query(request):
    return parse_qs(urlsplit(request.url).query)


@pytest.mark.parametrize("limit_cap", [1, 37, 100])
def test_a_silently_capped_limit_still_reads_every_event(config, flameup, http, limit_cap):
    """The API returns at most `limit_cap` events whatever `limit` asks; offsets advance by what arrived, and
    a page of the cap's size is full: only a shorter one (or an empty one) ends the window."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=i))) for i in range(150)]
    flameup.behaviour = FlameupBehaviour(limit_cap=limit_cap)

    # up to 151 requests: more than the default pace of 120 a minute would let through without waiting
    cfg = config.with_flameup(start_date=iso(start), page_size=100, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    windows: dict[str, list[int]] = {}  # windows follow the cap: at most 50 pages of it each
    for request in _page_requests(http):
        windows.setdefault(_query(request)["since"][0], []).append(int(_query(request)["offset"][0]))
    for offsets in windows.values():  # each window pages through its events a cap at a time, to a short page
        assert offsets == list(range(0, len(offsets) * limit_cap, limit_cap))
    assert len(windows) == math.ceil(150 / (MAX_PAGES_PER_WINDOW * limit_cap)) or limit_cap == 1


def test_a_short_page_ends_the_window_without_asking_for_an_empty_page(config, flameup, http):
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(250)]

    run_read(config.with_flameup(start_date=iso(start), page_size=100).build(), catalog(FLAMEUP))

    assert [int(_query(r)["offset"][0]) for r in _page_requests(http)] == [0, 100, 200]


def test_a_full_last_page_is_followed_by_one_empty_page_even_when_total_says_it_was_the_last(config, flameup, http):
    """`total` is never a reason to stop on its own."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(200)]

    run_read(config.with_flameup(start_date=iso(start), page_size=100).build(), catalog(FLAMEUP))

    assert [int(_query(r)["offset"][0]) for r in _page_requests(http)] == [0, 100, 200]


@pytest.mark.parametrize(
    "behaviour",
    [
        FlameupBehaviour(total="exact"),
        FlameupBehaviour(total="under", total_fraction=0.7),
        FlameupBehaviour(total="under", total_fraction=0.0),
        FlameupBehaviour(total="capped", total_cap=60),
        FlameupBehaviour(total="unfiltered"),
        FlameupBehaviour(total="changing"),
        FlameupBehaviour(total="absent"),
        FlameupBehaviour(total="under", total_fraction=0.7, limit_cap=37),
        FlameupBehaviour(total="capped", total_cap=60, limit_cap=37),
        FlameupBehaviour(total="changing", limit_cap=37, newest_first=False),
    ],
    ids=lambda b: f"total_{b.total}-cap_{b.limit_cap}",
)
def test_every_event_is_read_whatever_total_says(config, flameup, http, behaviour):
    """An under-reporting, capped, inflated, changing or absent `total` never ends a window early."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=17 * i))) for i in range(320)]
    flameup.events += [a_flameup_event("2026-11-01T00:00:00Z") for _ in range(5)]  # outside the time filter
    flameup.behaviour = behaviour

    output = run_read(
        config.with_flameup(start_date=iso(start), page_size=50, requests_per_minute=100_000).build(),
        catalog(FLAMEUP),
    )

    expected = sorted(e["id"] for e in flameup.events[:320])
    assert sorted(record_ids(output, FLAMEUP, "id")) == expected


def test_without_total_a_short_page_ends_the_window(config, flameup, http):
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(120)]
    flameup.behaviour = FlameupBehaviour(total="absent", limit_cap=50)

    output = run_read(config.with_flameup(start_date=iso(start), page_size=100).build(), catalog(FLAMEUP))

    assert len(record_ids(output, FLAMEUP, "id")) == 120
    assert [int(_query(r)["offset"][0]) for r in _page_requests(http)] == [0, 50, 100]


def test_a_short_page_is_not_the_end_when_total_says_more_events_follow(config, flameup, http):
    """An API whose pages vary in size is still read to the end when its `total` is right."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(120)]
    sizes = {"50": "30", "80": "40"}  # the page at 50 is short, yet `total` says 120 events; 40 more end it
    real_list_events = flameup.list_events

    def varying_pages(path, query, headers):
        offset = (query.get("offset") or ["0"])[0]
        if query.get("limit") != ["1"] and offset in sizes:
            query = {**query, "limit": [sizes[offset]]}
        return real_list_events(path, query, headers)

    flameup.list_events = varying_pages
    output = run_read(config.with_flameup(start_date=iso(start), page_size=50).build(), catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    assert [int(_query(r)["offset"][0]) for r in _page_requests(http)] == [0, 50, 80]


_READINGS = [
    pytest.param(
        FlameupBehaviour(since_inclusive=si, until_inclusive=ui, compare_precision=precision, newest_first=newest),
        id=f"since_{'incl' if si else 'excl'}-until_{'incl' if ui else 'excl'}-{precision}-{'newest' if newest else 'oldest'}_first",
    )
    for si, ui, precision, newest in itertools.product(
        [True, False], [True, False], ["second", "microsecond"], [True, False]
    )
]


@pytest.mark.parametrize("behaviour", _READINGS)
def test_events_on_and_around_window_boundaries_are_read_exactly_once(config, flameup, http, behaviour):
    """Every reading of since/until (inclusive or not, compared per second or finer) gives the same set:
    events at `start_date` and after it, each once, none before it, across a cut between two windows.

    Cuts go into gaps between events (source_events.flameup.windows); 80 hourly events at page size 2 make two
    windows of 25 pages, so the events around `start` are read by the first window, next to a cut.
    """
    start = utc("2026-10-01T00:00:00Z")
    moments = [start - timedelta(seconds=1), start - _MICROSECOND, start, start + _MICROSECOND]
    stamps = [iso(m) for m in moments] + [
        "2026-09-30T23:59:59.999999999Z",
        "2026-10-01T00:00:00.000000001Z",
        "2026-10-01T00:00:00.5Z",
    ]
    flameup.events = [a_flameup_event(stamp) for stamp in stamps for _ in range(2)]
    flameup.events += [a_flameup_event(iso(start + timedelta(hours=1 + i))) for i in range(200)]
    flameup.behaviour = behaviour

    cfg = config.with_flameup(start_date=iso(start), page_size=2, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    expected = [e["id"] for e in flameup.events if utc(e["timestamp"]) >= start]
    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(expected)
    assert len({_query(r)["since"][0] for r in _page_requests(http)}) >= 2  # windows, with cuts between them


def test_records_pass_through_unchanged_including_nanosecond_timestamps(config, flameup, http):
    event = a_flameup_event("2026-10-02T10:00:00.123456789Z", properties={"plan": {"tier": "pro", "seats": [1, 2]}})
    flameup.events = [event]

    output = run_read(config.with_flameup(start_date="2026-10-01T00:00:00Z").build(), catalog(FLAMEUP))

    assert [m.record.data for m in output.records] == [event]


def test_request_window_is_one_second_wider_than_the_slice_in_whole_seconds(config, flameup, http):
    output = run_read(config.with_flameup(start_date="2026-10-01T12:30:15.750Z").build(), catalog(FLAMEUP))

    read_until = utc(states_of(output, FLAMEUP)[-1]["timestamp"])  # the one window's end
    for request in _flameup_requests(http):
        assert _query(request)["since"] == ["2026-10-01T12:30:14Z"]
        assert _query(request)["until"] == [(read_until + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_filters_reach_the_query_string(config, flameup, http):
    flameup.events = [a_flameup_event("2026-11-20T00:00:00Z", person_id="u1", event="signup")]
    run_read(
        config.with_flameup(start_date=iso(_now() - timedelta(days=3)), user_id="u1", event="signup").build(),
        catalog(FLAMEUP),
    )

    for request in _flameup_requests(http):
        assert _query(request)["user_id"] == ["u1"]
        assert _query(request)["event"] == ["signup"]


def test_unset_filters_stay_out_of_the_query_string(config, flameup, http):
    run_read(config.with_flameup(start_date=iso(_now() - timedelta(days=3))).build(), catalog(FLAMEUP))

    assert _flameup_requests(http)
    for request in _flameup_requests(http):
        query = _query(request)
        assert "user_id" not in query and "event" not in query
        assert "None" not in request.url


def test_a_full_sync_ends_with_state_at_its_start_time_in_microseconds(config, flameup, http):
    before = _now()
    output = run_read(config.with_flameup(start_date=iso(before - timedelta(days=20))).build(), catalog(FLAMEUP))
    after = _now()

    final = states_of(output, FLAMEUP)[-1]["timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", final)
    assert before <= utc(final) <= after


def test_each_state_message_follows_every_record_it_covers(config, flameup, http):
    """A sync killed right after any state message and resumed from it loses nothing."""
    start = _now() - timedelta(days=30)
    flameup.events = [a_flameup_event(iso(start + timedelta(hours=i))) for i in range(600)]  # windows of <= 250
    cfg = config.with_flameup(start_date=iso(start), page_size=5, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    emitted = set()
    for message in output.records_and_state_messages:
        if message.record:
            emitted.add(message.record.data["id"])
        elif message.state.stream.stream_state.__dict__:
            covered_until = utc(message.state.stream.stream_state.timestamp)
            covered = {e["id"] for e in flameup.events if utc(e["timestamp"]) < covered_until}
            assert covered <= emitted
    windows = {(_query(r)["since"][0], _query(r)["until"][0]) for r in _page_requests(http)}
    assert len(windows) >= 3 and len(states_of(output, FLAMEUP)) >= len(windows)  # one per window at least


def test_incremental_sync_rereads_the_lookback_window_and_catches_late_events(config, flameup, http):
    saved = _now() - timedelta(hours=1)
    late = a_flameup_event(iso(saved - timedelta(minutes=4)))  # arrived after the last sync, 4 min before its state
    too_old = a_flameup_event(iso(saved - timedelta(minutes=30)))
    fresh = a_flameup_event(iso(saved + timedelta(minutes=5)))
    flameup.events = [late, too_old, fresh]

    output = run_read(
        config.with_flameup(lookback_window_minutes=10).build(),
        catalog(FLAMEUP),
        state(FLAMEUP, {"timestamp": iso(saved)}),
    )

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted([late["id"], fresh["id"]])
    since = min(_query(r)["since"][0] for r in _flameup_requests(http))
    assert utc(since) == (saved - timedelta(minutes=10)).replace(microsecond=0) - timedelta(seconds=1)


def test_a_future_state_reads_nothing_and_keeps_the_state(config, flameup, http):
    future = {"timestamp": "2099-01-01T00:00:00.000000Z"}
    flameup.events = [a_flameup_event(iso(_now() - timedelta(hours=1)))]

    output = run_read(config.with_flameup().build(), catalog(FLAMEUP), state(FLAMEUP, future))

    assert output.records == []
    assert states_of(output, FLAMEUP) == [future]
    assert _flameup_requests(http) == []


def test_full_refresh_ignores_nothing_and_reads_from_the_start_date(config, flameup, http):
    flameup.events = [a_flameup_event("2026-02-01T00:00:00Z"), a_flameup_event(iso(_now() - timedelta(minutes=1)))]

    output = run_read(config.with_flameup().build(), catalog(FLAMEUP, mode=SyncMode.full_refresh))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)


@pytest.mark.parametrize(
    "bad_state",
    [{"timestamp": "yesterday"}, {"timestamp": 17}, {"cursor": "2026-01-01T00:00:00Z"}],
    ids=["unparseable", "number", "no_timestamp"],
)
def test_a_malformed_state_fails_with_a_config_error_naming_the_fix(config, flameup, http, bad_state):
    output = run_read(config.with_flameup().build(), catalog(FLAMEUP), state(FLAMEUP, bad_state), expect_failure=True)

    messages = [e.trace.error.message for e in output.errors]
    assert any("saved state of stream flameup_events is unusable" in m and "Reset the stream" in m for m in messages)
    assert output.records == []
