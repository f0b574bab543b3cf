"""flameup_events: offset paging that survives a capped `limit`, half-open time windows that are exact
under every reading of since/until, filters, and state (per window, full precision, lookback)."""

import itertools
import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import SyncMode

from source_events.emulator import FlameupBehaviour
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW, window_events
from testkit.builders import (
    FLAMEUP,
    a_flameup_event,
    catalog,
    iso,
    positions_of,
    record_ids,
    run_read,
    state,
    utc,
)
from testkit.emulator import flameup_end_checks, requests_of

_MICROSECOND = timedelta(microseconds=1)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _page_requests(http) -> list[dict[str, str]]:
    """The queries that read pages of windows: not the sync's first look at its range (its first request,
    source_events.flameup.probes), nor the `limit=1` checks."""
    return [q for q in requests_of(http, "flameup")[1:] if q["limit"] != "1"]


def _offsets(http) -> list[int]:
    """The offsets of the windows' listings, without the checks of what lies beyond their ends."""
    checks = flameup_end_checks(_page_requests(http))
    return [int(q["offset"]) for q in _page_requests(http) if (q["since"], q["until"]) not in checks]


def _end_checks(http) -> list[dict[str, str]]:
    checks = flameup_end_checks(_page_requests(http))
    return [q for q in _page_requests(http) if (q["since"], q["until"]) in checks]


def _answering(flameup, change_answer):
    """The fake API answers through `change_answer(query, answer)`, which may change the body it returns."""
    real_list_events = flameup.list_events

    def list_events(path, query, headers):
        answer = real_list_events(path, query, headers)
        change_answer(query, answer)
        return answer

    flameup.list_events = list_events


@pytest.mark.parametrize("limit_cap", [1, 37, 100])
def test_a_silently_capped_limit_still_reads_every_event(config, flameup, http, limit_cap):
    """The API returns at most `limit_cap` events whatever `limit` asks; once a page of that size was followed
    by more, it is a full page, and the next request overlaps its last event (offset + cap - 1)."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=i))) for i in range(150)]
    flameup.behaviour = FlameupBehaviour(limit_cap=limit_cap)

    # up to ~300 requests: more than the default pace of 120 a minute would let through without waiting
    cfg = config.with_flameup(start_date=iso(start), page_size=100, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    offsets = _offsets(http)
    overlapping = [b - a for a, b in itertools.pairwise(offsets) if b - a == limit_cap - 1]
    assert len(offsets) <= 2 * 150 / limit_cap + 20 and (limit_cap == 1 or len(overlapping) >= 150 // limit_cap - 2)


def test_a_short_page_is_followed_by_one_empty_page_at_its_end(config, flameup, http):
    """Only an empty page ends a window. A full page is followed by a request overlapping its last event (the
    position is confirmed by it: offset 99 lists event 99 first), a short one by a request right after it. The
    window's first page is the first look's answer to the very same request, not asked again (0.5.3 did)."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(250)]
    flameup.behaviour = FlameupBehaviour(newest_first=False)

    output = run_read(config.with_flameup(start_date=iso(start), page_size=100).build(), catalog(FLAMEUP))

    assert record_ids(output, FLAMEUP, "id") == [e["id"] for e in flameup.events]
    assert _offsets(http) == [99, 198, 250]
    # the time range beyond the newest event read holds nothing unread: the check's answer overlapping the last event
    # read it skips (an event read deleted since would have moved an unread one up: 0.5.8), then the empty page
    assert len(_end_checks(http)) == 2


def test_a_full_last_page_is_followed_by_its_confirmation_and_one_empty_page(config, flameup, http):
    """`total` is never a reason to stop on its own."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(199)]

    run_read(config.with_flameup(start_date=iso(start), page_size=100).build(), catalog(FLAMEUP))

    assert _offsets(http) == [99, 198, 199]  # page 0 (the first look's), 99 events, the last event alone, nothing after
    # the time range beyond the oldest event read holds nothing unread: the check's answer overlapping the last event
    # read it skips (an event read deleted since would have moved an unread one up: 0.5.8), then the empty page
    assert len(_end_checks(http)) == 2


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


@pytest.mark.parametrize("total", ["absent", "everything", "visible"])
@pytest.mark.parametrize("newest_first", [True, False])
def test_pages_filtered_after_they_were_cut_never_end_a_window_early(
    config, flameup, http, caplog, total, newest_first
):
    """An API that cuts a page and then drops what the key may not see (soft-deleted rows, permissions) returns
    pages shorter than the cap although more events follow; its `total` may count them all, only the visible
    ones, or be absent. Only an empty page ends the listing; the change of reading is said once."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=30 * i))) for i in range(700)]
    hidden = {e["id"] for i, e in enumerate(flameup.events) if i % 7 in (2, 3) or 300 <= i < 340}
    flameup.behaviour = FlameupBehaviour(newest_first=newest_first)

    def drop_hidden(query, answer):
        if answer.status == 200:
            answer.body["events"] = [e for e in answer.body["events"] if e["id"] not in hidden]
            if total == "absent":
                answer.body.pop("total", None)
            elif total == "visible":
                answer.body["total"] -= len(hidden) * answer.body["total"] // len(flameup.events)

    _answering(flameup, drop_hidden)
    cfg = config.with_flameup(start_date=iso(start), page_size=100, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events if e["id"] not in hidden)
    said = [r.getMessage() for r in caplog.records if "short page in the middle of a listing" in r.getMessage()]
    assert len(said) == 1


@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("deleted_per_page", [1, 3, 150])
def test_events_deleted_while_a_window_pages_do_not_make_it_skip_one(
    config, flameup, http, newest_first, deleted_per_page
):
    """Deleting an event the reader has passed moves every later event down one offset: a reader advancing by what
    it received would skip one still-existing event per deletion. The overlap with the last event read shows the
    move, and the reader steps back until an answer holds an event it read."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=30 * i))) for i in range(1_000)]
    flameup.behaviour = FlameupBehaviour(newest_first=newest_first)
    existing_throughout = {e["id"] for e in flameup.events}
    served: list[str] = []
    rng = random.Random(deleted_per_page)

    def delete_behind_the_reader(query, answer):
        if answer.status != 200 or query.get("limit") == ["1"] or not answer.body["events"]:
            return
        served.extend(e["id"] for e in answer.body["events"])
        already = [e for e in flameup.events if e["id"] in set(served)]
        for event in rng.sample(already, min(deleted_per_page, len(already) // 2)):
            flameup.events.remove(event)
            existing_throughout.discard(event["id"])

    _answering(flameup, delete_behind_the_reader)
    cfg = config.with_flameup(start_date=iso(start), page_size=100, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    emitted = record_ids(output, FLAMEUP, "id")
    assert existing_throughout <= set(emitted)
    assert len(emitted) == len(set(emitted))
    assert len(existing_throughout) < 1_000  # the deletions happened


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
    """Every reading of since/until (inclusive or not, compared per second or finer): every event at `start_date`
    and after it, each once, across a cut between two windows.

    Cuts go into gaps between events (source_events.flameup.windows); 2 * MAX_PAGES_PER_WINDOW hourly events at page size 2
    make two windows, so the events around `start` are read by the first window, next to a cut.
    """
    start = utc("2026-10-01T00:00:00Z")
    moments = [start - timedelta(seconds=1), start - _MICROSECOND, start, start + _MICROSECOND]
    stamps = [iso(m) for m in moments] + [
        "2026-09-30T23:59:59.999999999Z",
        "2026-10-01T00:00:00.000000001Z",
        "2026-10-01T00:00:00.5Z",
    ]
    flameup.events = [a_flameup_event(stamp) for stamp in stamps for _ in range(2)]
    flameup.events += [a_flameup_event(iso(start + timedelta(hours=1 + i))) for i in range(2 * MAX_PAGES_PER_WINDOW)]
    flameup.behaviour = behaviour

    cfg = config.with_flameup(start_date=iso(start), page_size=2, requests_per_minute=100_000).build()
    output = run_read(cfg, catalog(FLAMEUP))

    emitted = record_ids(output, FLAMEUP, "id")
    assert len(emitted) == len(set(emitted))
    assert {e["id"] for e in flameup.events if utc(e["timestamp"]) >= start} <= set(emitted)
    # an event the API returned is never dropped: the first window asks from a second before `start_date`
    assert set(emitted) <= {e["id"] for e in flameup.events if utc(e["timestamp"]) >= start - timedelta(seconds=1)}
    assert len({q["since"] for q in _page_requests(http)}) >= 2  # windows, with cuts between them


def test_records_pass_through_unchanged_including_nanosecond_timestamps(config, flameup, http):
    event = a_flameup_event("2026-10-02T10:00:00.123456789Z", properties={"plan": {"tier": "pro", "seats": [1, 2]}})
    flameup.events = [event]

    output = run_read(config.with_flameup(start_date="2026-10-01T00:00:00Z").build(), catalog(FLAMEUP))

    assert [m.record.data for m in output.records] == [event]


def test_request_window_is_one_second_wider_than_the_slice_in_whole_seconds(config, flameup, http):
    output = run_read(config.with_flameup(start_date="2026-10-01T12:30:15.750Z").build(), catalog(FLAMEUP))

    read_until = utc(positions_of(output, FLAMEUP)[-1]["timestamp"])  # the one window's end
    for query in requests_of(http, "flameup"):
        assert query["since"] == "2026-10-01T12:30:14Z"
        assert query["until"] == (read_until + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_filters_reach_the_query_string(config, flameup, http):
    flameup.events = [a_flameup_event("2026-11-20T00:00:00Z", person_id="u1", event="signup")]
    run_read(
        config.with_flameup(start_date=iso(_now() - timedelta(days=3)), user_id="u1", event="signup").build(),
        catalog(FLAMEUP),
    )

    for query in requests_of(http, "flameup"):
        assert query["user_id"] == "u1"
        assert query["event"] == "signup"


def test_unset_filters_stay_out_of_the_query_string(config, flameup, http):
    run_read(config.with_flameup(start_date=iso(_now() - timedelta(days=3))).build(), catalog(FLAMEUP))

    assert requests_of(http, "flameup")
    for request in http.request_history:
        assert "None" not in request.url
    for query in requests_of(http, "flameup"):
        assert "user_id" not in query and "event" not in query


def test_a_full_sync_ends_with_state_at_its_start_time_in_microseconds(config, flameup, http):
    before = _now()
    output = run_read(config.with_flameup(start_date=iso(before - timedelta(days=20))).build(), catalog(FLAMEUP))
    after = _now()

    final = positions_of(output, FLAMEUP)[-1]["timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", final)
    assert before <= utc(final) <= after


def test_each_state_message_follows_every_record_it_covers(config, flameup, http):
    """A sync killed right after any state message and resumed from it loses nothing."""
    start = _now() - timedelta(days=70)
    count = 3 * window_events(5)  # three windows' worth at pages of 5
    flameup.events = [a_flameup_event(iso(start + timedelta(days=69) * i / count)) for i in range(count)]
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
    windows = {(q["since"], q["until"]) for q in _page_requests(http)} - flameup_end_checks(_page_requests(http))
    # a state each time the windows read without a gap reach further, never the same twice: all four windows are
    # read at once here (unpaced), so how many states depends on which finishes first (one, if the first does last)
    moments = [utc(state["timestamp"]) for state in positions_of(output, FLAMEUP) if state]
    assert len(windows) >= 3 and moments and moments == sorted(set(moments))


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
    since = min(q["since"] for q in requests_of(http, "flameup"))
    assert utc(since) == (saved - timedelta(minutes=10)).replace(microsecond=0) - timedelta(seconds=1)


def test_a_future_state_reads_nothing_and_keeps_the_state(config, flameup, http):
    future = {"timestamp": "2099-01-01T00:00:00.000000Z"}
    flameup.events = [a_flameup_event(iso(_now() - timedelta(hours=1)))]

    output = run_read(config.with_flameup().build(), catalog(FLAMEUP), state(FLAMEUP, future))

    assert output.records == []
    assert positions_of(output, FLAMEUP) == [future]
    assert requests_of(http, "flameup") == []


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


@pytest.mark.parametrize(
    "behaviour, first_estimate",
    [(FlameupBehaviour(total="exact"), 250), (FlameupBehaviour(total="under", total_fraction=0.5), 125)],
    ids=["exact_total", "low_total"],
)
def test_the_platform_is_told_about_how_many_rows_the_sync_reads(config, flameup, http, behaviour, first_estimate):
    """An ESTIMATE trace message (the Airbyte UI's progress bar) from the first look's `total`, before the first
    record; a low one is raised to the rows read once they pass it. A hint: it ends nothing."""
    start = _now() - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(250)]
    flameup.behaviour = behaviour

    output = run_read(config.with_flameup(start_date=iso(start), page_size=20).build(), catalog(FLAMEUP))

    messages = [m for m in output.records_and_state_messages]  # noqa: C416 - the order of the whole output
    estimates = [m.trace.estimate for m in output.trace_messages if m.trace.type.value == "ESTIMATE"]
    assert [e.name for e in estimates] == [FLAMEUP] * len(estimates)
    assert estimates[0].row_estimate == first_estimate and estimates[0].type.value == "STREAM"
    assert max(e.row_estimate for e in estimates) == len(record_ids(output, FLAMEUP, "id")) == 250
    assert messages  # the sync went on whatever the estimate said
