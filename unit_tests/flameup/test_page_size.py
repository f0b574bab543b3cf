"""Flameup's page size found at run time (source_events/flameup/paging.py): with `flameup.page_size` unset
the connector asks for 1000 and learns what Flameup serves, whether it caps pages silently, refuses a large
`limit` with a 400 (naming its cap or not), or honours 1000; a page size the user sets is sent as it is.
Requests are the cost: a sync stays within 1.1 * ceil(events / the API's true cap) + windows + 2."""

import math
from datetime import datetime, timedelta, timezone

import pytest

from source_events.emulator import FlameupBehaviour
from source_events.flameup.page_size import PageSize
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW, window_events
from testkit.builders import FLAMEUP, a_flameup_event, catalog, iso, record_ids, run_read
from testkit.emulator import flameup_end_checks, requests_of

_EVENTS = 12_000
_SWITCHES = [
    pytest.param(FlameupBehaviour(limit_cap=100), 100, id="silent_cap_100"),
    pytest.param(FlameupBehaviour(limit_cap=100, limit_over_cap="reject"), 100, id="400_above_100"),
    pytest.param(FlameupBehaviour(limit_cap=1000), 1000, id="honours_1000"),
]


def _limits(http) -> list[int]:
    return [int(query["limit"]) for query in requests_of(http, "flameup")]


def _history(flameup, count: int = _EVENTS) -> datetime:
    """`count` events evenly over the last six days (40 s apart at the default count)."""
    start = datetime.now(timezone.utc) - timedelta(days=6)
    flameup.events = [a_flameup_event(iso(start + timedelta(days=5.9) * i / count)) for i in range(count)]
    return start


@pytest.mark.parametrize("behaviour, true_cap", _SWITCHES)
def test_an_unset_page_size_reads_every_event_at_the_apis_true_cap(config, flameup, http, behaviour, true_cap):
    start = _history(flameup)
    flameup.behaviour = behaviour

    output = run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    requests = requests_of(http, "flameup")
    pages = [q for q in requests[1:] if q["limit"] != "1"]
    windows = {(q["since"], q["until"]) for q in pages} - flameup_end_checks(pages)
    # each window: its pages, its closing empty page and the check of what lies beyond its end
    assert len(requests) <= 1.1 * math.ceil(_EVENTS / true_cap) + 2 * len(windows) + 2
    assert requests[0]["limit"] == "1000"  # the first request asks for the most the spec allows
    assert {int(q["limit"]) for q in requests[1:] if q["limit"] != "1"} <= {
        min(1000, true_cap if behaviour.limit_over_cap != "cap" else 1000)
    }


def test_a_refused_limit_is_asked_again_at_the_cap_the_message_names_and_said_once(config, flameup, http, caplog):
    start = _history(flameup, 3_000)
    flameup.behaviour = FlameupBehaviour(limit_cap=100, limit_over_cap="reject")

    output = run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    assert len(record_ids(output, FLAMEUP, "id")) == 3_000
    assert [limit for limit in _limits(http) if limit > 100] == [1000]  # one refusal: the message names 100
    settled = [r.getMessage() for r in caplog.records if "Flameup rejects larger pages" in r.getMessage()]
    assert settled == ["Stream flameup_events: Flameup rejects larger pages; asking for 100 events a page."]


def test_a_silent_cap_is_said_once(config, flameup, http, caplog):
    start = _history(flameup, 3_000)
    flameup.behaviour = FlameupBehaviour(limit_cap=100)

    run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    said = [r.getMessage() for r in caplog.records if "events a page" in r.getMessage()]
    assert said == [
        "Stream flameup_events: Flameup serves at most 100 events a page (asked for 1,000); paging by what arrives."
    ]


def test_a_refused_limit_without_a_named_cap_is_halved_until_flameup_accepts_it(config, flameup, http, caplog):
    start = _history(flameup, 3_000)
    flameup.behaviour = FlameupBehaviour(limit_cap=100, limit_over_cap="reject_unnamed")

    output = run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    assert [limit for limit in _limits(http) if limit > 100] == [1000, 500, 250, 125]
    assert set(_limits(http)[4:]) <= {62, 1}
    assert any("asking for 62 events a page" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("page_size, said", [(1, 1), (20, 1), (100, 0)])
def test_a_small_page_size_set_by_the_user_is_said_once_with_what_it_costs(
    config, flameup, http, caplog, page_size, said
):
    """Pages of one read every event at Flameup's limit but take about two requests each (a user's 505 events took
    8 minutes): the read says so once, naming the setting."""
    start = _history(flameup, 300)

    output = run_read(
        config.with_flameup(start_date=iso(start), requests_per_minute=100_000, page_size=page_size).build(),
        catalog(FLAMEUP),
    )

    assert len(record_ids(output, FLAMEUP, "id")) == 300
    assert set(_limits(http)) <= {page_size, 1}
    warned = [r.getMessage() for r in caplog.records if "`flameup.page_size` is" in r.getMessage()]
    assert len(warned) == said
    if said:
        # the pace configured (0.5.13 quoted Flameup's 120 whatever it was)
        assert f"at 100,000 requests a minute a sync reads at most {100_000 * page_size:,} a minute" in warned[0]
        assert "Leave it unset" in warned[0]


def test_windows_follow_the_cap_flameup_serves(config, flameup, http):
    """A silent cap of 100 under the 1000 asked for: windows hold at most MAX_PAGES_PER_WINDOW pages of 100, not
    of 1000."""
    count = 5 * window_events(100) // 2
    start = _history(flameup, count)
    flameup.behaviour = FlameupBehaviour(limit_cap=100)

    run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    pages = [q for q in requests_of(http, "flameup")[1:] if q["limit"] != "1"]
    per_window: dict[tuple[str, str], int] = {}
    for query in pages:
        window = (query["since"], query["until"])
        per_window[window] = per_window.get(window, 0) + 1
    windows = set(per_window) - flameup_end_checks(pages)
    assert len(windows) >= 3 and max(per_window[w] for w in windows) <= MAX_PAGES_PER_WINDOW + 2


def test_after_a_short_first_page_a_total_past_a_window_is_checked_where_a_window_ends(config, flameup, http):
    """The first look's page is shorter than asked (a silent cap, or the range's end). `total` says more than a
    window of such pages: the request that tells the cap from the end asks where a window ends, and its answer is
    the planner's first question too, not asked again."""
    count = 5 * window_events(100) // 2
    start = _history(flameup, count)
    flameup.behaviour = FlameupBehaviour(limit_cap=100)

    output = run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    first_look, check = requests_of(http, "flameup")[:2]
    assert (check["limit"], check["offset"]) == ("1", str(window_events(100)))
    asked_again = [q for q in requests_of(http, "flameup")[2:] if q == check]
    assert not asked_again
    assert not [q for q in requests_of(http, "flameup") if (q["limit"], q["offset"]) == ("1", "100")]


@pytest.mark.parametrize("in_range", [60, 2_000], ids=["one-page", "more-pages"])
def test_a_total_that_overstates_costs_the_first_look_no_events(config, flameup, http, in_range):
    """`total` counts the whole workspace (past a window of pages) while the range holds a page or a few: the
    check where a window ends finds nothing, the one after the first page tells the cap from the end, and every
    event is read."""
    start = _history(flameup, in_range)
    flameup.events += [a_flameup_event(iso(start - timedelta(days=30))) for _ in range(window_events(100) + 1)]
    flameup.behaviour = FlameupBehaviour(limit_cap=100, total="unfiltered")

    output = run_read(config.with_flameup(start_date=iso(start), requests_per_minute=100_000).build(), catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events[:in_range])
    first_page = min(in_range, 100)
    queries = [(q["limit"], q["offset"]) for q in requests_of(http, "flameup")]
    assert queries[1] == ("1", str(window_events(first_page)))  # where a window of pages that size would end
    assert queries[2] == ("1", str(first_page))  # then the cap or the end, right after the first page
    assert queries.count(queries[1]) == 1  # the planner's question was answered, not asked again


def test_a_page_size_the_user_sets_is_sent_as_it_is(config, flameup, http):
    start = _history(flameup, 500)
    flameup.behaviour = FlameupBehaviour(limit_cap=37)

    output = run_read(
        config.with_flameup(start_date=iso(start), page_size=100, requests_per_minute=100_000).build(), catalog(FLAMEUP)
    )

    assert len(record_ids(output, FLAMEUP, "id")) == 500
    assert set(_limits(http)) <= {100, 1}


def test_a_page_size_the_user_set_that_flameup_refuses_is_a_config_error_naming_it(config, flameup, http):
    start = _history(flameup, 500)
    flameup.behaviour = FlameupBehaviour(limit_cap=100, limit_over_cap="reject")

    output = run_read(
        config.with_flameup(start_date=iso(start), page_size=500).build(), catalog(FLAMEUP), expect_failure=True
    )

    messages = [e.trace.error.message for e in output.errors]
    assert any(
        m.startswith("Flameup rejected `limit=500` (limit must be between 1 and 100). Lower `flameup.page_size`")
        for m in messages
    ), messages
    assert len(requests_of(http, "flameup")) == 1


def test_a_full_page_is_never_taken_smaller_than_a_page_received():
    """Pages filtered after cutting come back shorter than the cap, and a short one followed by more looked like the
    cap: at pages of 1 the listing then confirmed the last event read forever (the pure-logic fuzzing of the
    listing, 0.5.5). A page of 3 came back, so the cap is no smaller than 3."""
    sizes = PageSize(20)
    sizes.received(3)
    sizes.received(1, followed_by_more=True)
    assert sizes.full == 3
    sizes.received(5, followed_by_more=True)
    assert sizes.full == 5
