"""WindowPlanner on its own: the windows always tile the range in time order, each holds at most
MAX_PAGES_PER_WINDOW pages unless one burst does, whatever `total` says (the probe asks the data); an exact
`total` sizes them for about one probe each, any other costs about two. Through HTTP:
unit_tests/test_request_budget.py and unit_tests/flameup/test_flameup_events.py."""

import bisect
import random
from datetime import datetime, timedelta, timezone

import pytest

from source_events.common.timestamps import format_timestamp
from source_events.flameup.windows import (
    MAX_PAGES_PER_WINDOW,
    MIN_SPAN,
    BoundaryClaims,
    ProbeAnswer,
    WindowPlanner,
)

LOWER = datetime(2025, 1, 1, tzinfo=timezone.utc)
UPPER = datetime(2026, 1, 1, tzinfo=timezone.utc)
PAGE = 10
WINDOW_EVENTS = MAX_PAGES_PER_WINDOW * PAGE


# What an API's `total` may be for a range holding `count` of the workspace's `everything` events
TOTALS = {
    "exact": lambda count, everything, rng: count,
    "absent": lambda count, everything, rng: None,
    "30% low": lambda count, everything, rng: int(count * 0.7),
    "capped at 300": lambda count, everything, rng: min(count, 300),
    "the workspace's": lambda count, everything, rng: everything,
    "changing": lambda count, everything, rng: int(count * rng.uniform(0.5, 1.5)),
    "negative": lambda count, everything, rng: -1,
}


class CountingApi:
    """Answers "does [lower, upper) hold more than n events?" from a list of event times, counting probes, with a
    `total` as TOTALS[total] makes it."""

    def __init__(self, moments: list[datetime], total: str = "exact") -> None:
        self.moments = sorted(moments)
        self.probes = 0
        self._total = TOTALS[total]
        self._rng = random.Random(7)

    def count(self, lower: datetime, upper: datetime) -> int:
        return bisect.bisect_left(self.moments, upper) - bisect.bisect_left(self.moments, lower)

    def __call__(self, lower: datetime, upper: datetime, n: int) -> ProbeAnswer:
        self.probes += 1
        count = self.count(lower, upper)
        return ProbeAnswer(holds_more=count > n, total=self._total(count, len(self.moments), self._rng))


def _plan(api: CountingApi, page: int = PAGE) -> list[tuple[datetime, datetime]]:
    return list(WindowPlanner(api, lambda: page).windows(LOWER, UPPER))


def _assert_tiles(windows: list[tuple[datetime, datetime]]) -> None:
    assert windows[0][0] == LOWER and windows[-1][1] == UPPER
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(windows, windows[1:], strict=False))


def _uniform(rng: random.Random, count: int) -> list[datetime]:
    return [LOWER + timedelta(seconds=rng.uniform(0, (UPPER - LOWER).total_seconds())) for _ in range(count)]


def _sparse_then_busy(rng: random.Random, count: int) -> list[datetime]:
    busy_from = UPPER - timedelta(days=7)
    return [LOWER + timedelta(days=rng.uniform(0, 300)) for _ in range(20)] + [
        busy_from + timedelta(seconds=rng.uniform(0, 7 * 86400)) for _ in range(count)
    ]


def _steady_and_dense(rng: random.Random, count: int) -> list[datetime]:
    """No gap of a second anywhere: 20 events a second for as long as it takes."""
    start = UPPER - timedelta(seconds=count / 20 + 10)
    return [start + timedelta(seconds=i / 20 + rng.uniform(0, 0.04)) for i in range(count)]


def _bursts(rng: random.Random, count: int) -> list[datetime]:
    seconds = [LOWER + timedelta(days=rng.uniform(0, 364)) for _ in range(10)]
    return [rng.choice(seconds) + timedelta(microseconds=rng.randrange(1_000_000)) for _ in range(count)]


@pytest.mark.parametrize("total", list(TOTALS))
@pytest.mark.parametrize("shape", [_uniform, _sparse_then_busy, _steady_and_dense, _bursts], ids=lambda f: f.__name__)
@pytest.mark.parametrize("count", [0, 1, WINDOW_EVENTS, 7_000])
def test_windows_tile_the_range_and_hold_at_most_a_window_of_events_unless_they_are_one_burst(shape, count, total):
    api = CountingApi(shape(random.Random(count), count), total)

    windows = _plan(api)

    _assert_tiles(windows)
    for start, end in windows:
        assert api.count(start, end) <= WINDOW_EVENTS or end - start < 2 * MIN_SPAN
    # the probes: about one per window, and one per cut; a few more while a misleading `total` is believed
    assert api.probes <= 2 * len(windows) + 3


@pytest.mark.parametrize("total", list(TOTALS))
def test_uniform_data_makes_windows_of_half_to_all_of_a_window_of_events(total):
    api = CountingApi(_uniform(random.Random(1), 20_000), total)

    sizes = [api.count(start, end) for start, end in _plan(api)]

    assert max(sizes) <= WINDOW_EVENTS
    assert sum(sizes) / len(sizes) >= WINDOW_EVENTS / 2.5


def test_an_exact_total_sizes_windows_near_the_maximum_for_fewer_requests():
    """Requests are the cost under Flameup's rate limit: each window costs a probe and a ragged last page."""
    moments = _uniform(random.Random(8), 40 * WINDOW_EVENTS)
    exact, absent = CountingApi(moments, "exact"), CountingApi(moments, "absent")

    windows, without_total = _plan(exact), _plan(absent)
    sizes = [exact.count(start, end) for start, end in windows]

    assert max(sizes) <= WINDOW_EVENTS
    assert sum(sizes) / len(sizes) >= 0.8 * WINDOW_EVENTS
    assert exact.probes <= 1.4 * len(windows) + 2
    assert exact.probes + len(windows) < 0.75 * (absent.probes + len(without_total))


def test_a_burst_is_never_cut_and_stays_in_one_window():
    burst_second = LOWER + timedelta(days=100, hours=3)
    burst = [burst_second + timedelta(microseconds=i) for i in range(3 * WINDOW_EVENTS)]
    api = CountingApi(burst)

    windows = _plan(api)

    _assert_tiles(windows)
    (holding,) = [(start, end) for start, end in windows if api.count(start, end)]
    assert api.count(*holding) == len(burst)
    assert holding[1] - holding[0] < 2 * MIN_SPAN  # cut down to the shortest range, then left whole


def test_a_range_that_holds_a_window_or_less_is_one_window_after_one_probe():
    api = CountingApi(_uniform(random.Random(2), WINDOW_EVENTS))

    assert _plan(api) == [(LOWER, UPPER)]
    assert api.probes == 1


def test_a_smaller_page_size_makes_smaller_windows():
    """The planner reads the page size at each cut: once paging has shown the API's cap, windows follow it."""
    moments = _uniform(random.Random(3), 5_000)

    with_cap = _plan(CountingApi(moments), page=2)
    without = _plan(CountingApi(moments), page=PAGE)

    assert len(with_cap) > 2 * len(without)


def test_cuts_are_whole_seconds():
    windows = _plan(CountingApi(_uniform(random.Random(4), 5_000)))

    assert len(windows) > 1
    assert all(end.microsecond == 0 for _, end in windows[:-1])


def _written(moment: datetime, rng: random.Random) -> str:
    """A timestamp the way Flameup might write it: 0 to 9 fractional digits, Z or an offset."""
    digits = rng.choice([0, 3, 6, 9])
    fraction = "" if digits == 0 else "." + f"{moment.microsecond:06d}000"[:digits]
    if rng.random() < 0.2:  # the same moment at another offset
        local = moment.astimezone(timezone(timedelta(hours=rng.choice([-5, 2]))))
        return (
            local.strftime("%Y-%m-%dT%H:%M:%S") + fraction + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
        )
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


@pytest.mark.parametrize("seed", range(6))
def test_events_that_both_windows_around_a_boundary_list_are_handed_on_once(seed):
    """Neighbouring windows both list the seconds around their boundary (each asks 1-2 s wider), by `timestamp`
    or by `created_at`: whichever window hands such an event on first claims it, the other skips it, whether the
    claim reads a timestamp's text or parses it. Events far from the boundary are handed on as they come."""
    rng = random.Random(seed)
    start = LOWER + timedelta(days=rng.randint(0, 300), microseconds=rng.choice([0, 1, 500_000, 999_999]))
    boundary = start + timedelta(seconds=rng.choice([60, 86_400]), microseconds=rng.choice([0, 250_000]))
    end = boundary + timedelta(hours=1)
    near = [boundary + timedelta(microseconds=rng.randint(-2_000_000, 2_000_000)) for _ in range(300)]
    far = [boundary + timedelta(seconds=rng.choice([-60, 50])) for _ in range(20)]
    events = [
        {
            "id": str(i),
            "timestamp": _written(m, rng),
            "created_at": _written(m + timedelta(seconds=rng.uniform(0, 30)), rng),
        }
        for i, m in enumerate(near + far)
    ]
    claims = BoundaryClaims()
    before = claims.of_window(format_timestamp(start), format_timestamp(boundary))
    after = claims.of_window(format_timestamp(boundary), format_timestamp(end))

    handed_on = []
    for event in rng.sample(events, len(events)):  # both windows list every event, in their own order
        for window in rng.sample([before, after], 2):
            if window.first_to_claim(event):
                handed_on.append(event["id"])

    far_ids = {e["id"] for e in events[len(near) :]}  # far by both fields: each window hands them on
    assert sorted(i for i in handed_on if i not in far_ids) == sorted(e["id"] for e in events[: len(near)])
    assert sorted(i for i in handed_on if i in far_ids) == sorted([*far_ids, *far_ids])
