"""Requests are the cost in production (Flameup allows 120 a minute): a full sync makes at most
1.1 * ceil(records / page size) + windows + 2 requests per stream whatever the history's shape, and an
incremental sync with nothing new reads its lookback and a few requests more. And whatever `total` says, Flameup checkpoints after every
window, and no window holds more than MAX_PAGES_PER_WINDOW pages unless one burst does."""

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from source_events.emulator import FlameupBehaviour
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW
from testkit.builders import (
    BEM,
    FLAMEUP,
    a_flameup_event,
    bem_events_in_seconds,
    catalog,
    iso,
    record_ids,
    run_read,
    states_of,
    utc,
)
from testkit.builders import state as state_message
from testkit.emulator import requests_of

PAGE_SIZE = 20


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sparse_years(rng: random.Random) -> list[datetime]:
    """Ten years, almost all of them empty: a handful of events a year, then a busy last month."""
    start = _now() - timedelta(days=3650)
    quiet = [start + timedelta(days=rng.uniform(0, 3620)) for _ in range(40)]
    busy = [_now() - timedelta(days=rng.uniform(0.01, 30)) for _ in range(900)]
    return quiet + busy


def _one_burst(rng: random.Random) -> list[datetime]:
    """Every event within two seconds: quantiles cannot split it, and must not try forever."""
    moment = _now() - timedelta(days=400)
    return [moment + timedelta(microseconds=rng.randrange(2_000_000)) for _ in range(700)]


def _uniform(rng: random.Random) -> list[datetime]:
    start = _now() - timedelta(days=90)
    return [start + timedelta(seconds=rng.uniform(0, 90 * 86400)) for _ in range(1500)]


def _bursts_around_midnights(rng: random.Random) -> list[datetime]:
    midnight = (_now() - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    return [midnight + timedelta(days=d, seconds=rng.uniform(-1, 1)) for d in range(20) for _ in range(60)]


_SHAPES = [_sparse_years, _one_burst, _uniform, _bursts_around_midnights]


def _pages_per_window(http) -> dict[tuple[str, str], int]:
    """The page requests of each window (its since/until): not the sync's first look at its range (its first
    request), nor the planner's `limit=1` probes."""
    pages: dict[tuple[str, str], int] = {}
    for query in requests_of(http, "flameup")[1:]:
        if query["limit"] != "1":
            window = (query["since"], query["until"])
            pages[window] = pages.get(window, 0) + 1
    return pages


def _steady_and_dense(rng: random.Random) -> list[datetime]:
    """Twenty events a second for two minutes, no gap of a second anywhere: windows must still be cut (each
    cut then reads the ~3 s around it twice, 3 pages here: not a shape for the request budget)."""
    start = _now() - timedelta(days=3)
    return [start + timedelta(seconds=i / 20 + rng.uniform(0, 0.04)) for i in range(2400)]


_SHAPES = [_sparse_years, _one_burst, _uniform, _bursts_around_midnights]


@pytest.mark.parametrize("shape", _SHAPES, ids=lambda s: s.__name__.strip("_"))
@pytest.mark.parametrize("newest_first", [True, False], ids=["newest-first", "oldest-first"])
def test_flameup_full_sync_stays_within_the_request_budget(config, flameup, http, shape, newest_first):
    moments = shape(random.Random(3))
    flameup.events = [a_flameup_event(iso(m)) for m in moments]
    flameup.behaviour = FlameupBehaviour(newest_first=newest_first)
    start_date = min(moments) - timedelta(days=1)
    cfg = config.with_flameup(start_date=iso(start_date), page_size=PAGE_SIZE, requests_per_minute=100_000).build()

    output = run_read(cfg, catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    windows = len(_pages_per_window(http))
    # each window's check beyond its end pages through the events read it may list: how Flameup compares `since` and
    # `until` is undocumented, so whether the second past a widened bound is listed is unknown (two seconds' events)
    band = max(0, math.ceil(_densest(moments, timedelta(seconds=2)) / PAGE_SIZE) - 1)
    assert len(requests_of(http, "flameup")) <= 1.1 * math.ceil(len(moments) / PAGE_SIZE) + windows * (1 + band) + 2


def _densest(moments: list[datetime], span: timedelta) -> int:
    """The most events within any `span`."""
    ordered, first, most = sorted(moments), 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= span:
            first += 1
        most = max(most, last - first + 1)
    return most


_UNUSABLE_TOTALS = [
    FlameupBehaviour(total="under", total_fraction=0.5),
    FlameupBehaviour(total="capped", total_cap=100),
    FlameupBehaviour(total="unfiltered"),
    FlameupBehaviour(total="changing"),
    FlameupBehaviour(total="absent"),
]


@pytest.mark.parametrize("behaviour", _UNUSABLE_TOTALS, ids=lambda b: b.total)
@pytest.mark.parametrize("shape", [_uniform, _steady_and_dense], ids=lambda s: s.__name__.strip("_"))
def test_flameup_checkpoints_after_every_window_of_at_most_max_pages_whatever_total_says(
    config, flameup, http, behaviour, shape
):
    moments = shape(random.Random(6))
    flameup.events = [a_flameup_event(iso(m)) for m in moments]
    flameup.events += [a_flameup_event(iso(_now() - timedelta(days=4000))) for _ in range(300)]  # before start_date
    flameup.behaviour = behaviour
    cfg = config.with_flameup(
        start_date=iso(min(moments) - timedelta(days=1)), page_size=PAGE_SIZE, requests_per_minute=100_000
    ).build()

    output = run_read(cfg, catalog(FLAMEUP))

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events[: len(moments)])
    pages = _pages_per_window(http)
    assert len(pages) >= len(moments) / (MAX_PAGES_PER_WINDOW * PAGE_SIZE)
    assert max(pages.values()) <= MAX_PAGES_PER_WINDOW + 2  # the window's own pages, plus the cut's overlap
    # a state each time the windows read without a gap reach further (several are read at once, unpaced here):
    # each at the end of a window, never the same twice
    moments = [state["timestamp"] for state in states_of(output, FLAMEUP) if state]
    ends = {utc(until) - timedelta(seconds=2) for _, until in pages}
    assert moments and len(moments) == len(set(moments))
    assert all(utc(moment).replace(microsecond=0) in ends for moment in moments[:-1])


@pytest.mark.parametrize(
    "recent, expected",
    [
        # the lookback is empty: the first look's empty page, which the one window takes as its own (0.5.3: 2)
        (0, 1),
        # the lookback holds events: the first look's page, which the one window takes as its own, the check of a cap
        # (`limit=1` after it), and the window's closing empty page (0.5.3: 4, the window asking its page again)
        (7, 3),
    ],
    ids=["empty-lookback", "events-in-lookback"],
)
def test_flameup_incremental_with_nothing_new_costs_a_few_requests(config, flameup, http, recent, expected):
    """The first look settles the page size; the one window is then read like any other, to an empty page, taking
    the first look's answers to the very requests it would send instead of sending them again."""
    moments = _uniform(random.Random(5))
    moments = [m for m in moments if m < _now() - timedelta(hours=1)]
    moments += [_now() - timedelta(minutes=1, seconds=i) for i in range(recent)]
    flameup.events = [a_flameup_event(iso(m)) for m in moments]
    cfg = config.with_flameup(start_date=iso(min(moments) - timedelta(days=1)), page_size=PAGE_SIZE).build()
    first = run_read({**cfg, "flameup": {**cfg["flameup"], "requests_per_minute": 100_000}}, catalog(FLAMEUP))
    saved = states_of(first, FLAMEUP)[-1]
    http.reset_mock()

    again = run_read(cfg, catalog(FLAMEUP), state_message(FLAMEUP, saved))

    sent = requests_of(http, "flameup")
    assert len(sent) == expected, sent
    assert len(again.records) == recent  # the lookback's events are read again (dedup is the destination's)


def test_bem_full_sync_and_unchanged_incremental_stay_within_the_request_budget(config, bem, http):
    # 7 events every 10 s for 50 minutes: the seconds the two readers meet in (2 x 2 x 60 s) hold 10 pages
    bem.events = bem_events_in_seconds({1_790_000_000 + second: 7 for second in range(0, 3_000, 10)})
    cfg = config.with_bem(page_size=PAGE_SIZE).build()

    first = run_read(cfg, catalog(BEM))
    full_sync_requests = len(http.request_history)
    http.reset_mock()
    again = run_read(cfg, catalog(BEM), state_message(BEM, states_of(first, BEM)[-1]))

    # each reader's pages, the sort order check, each one's last page, and the seconds where they meet; each page
    # lists the second it ended in again (resume_after): up to 7 events, 3 to 4 on average
    assert full_sync_requests <= 1.1 * math.ceil(len(bem.events) / (PAGE_SIZE - 4)) + 10 + 6
    # nothing new: the lookback's pages (the newest second and the 60 before it, by default), an empty page, its
    # confirmation; the newest-first reader's sort order check and top page (leaving so short a backlog alone)
    assert len(again.records) == 7 * 7
    # the lookback's 7 seconds of 7 in pages of 20, each after the first starting again at the second the one before
    # ended in (resume_after): 20, 20, 20, then the last second, 7: four pages
    lookback_pages = 4
    assert len(http.request_history) == lookback_pages + 2 + 2
