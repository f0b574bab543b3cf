"""WindowPlanner on its own: the windows always tile the range, the probes cost one request per window,
and cuts land in gaps, never in bursts. (Through HTTP, unit_tests/test_request_budget.py.)"""

import random
from datetime import UTC, datetime, timedelta

import pytest

from source_events.flameup.windows import PAGES_PER_WINDOW, Probe, WindowPlanner

LOWER = datetime(2025, 1, 1, tzinfo=UTC)
UPPER = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = 10


class ListingApi:
    """Answers probes from a list of event times, in the given order, counting the probes."""

    def __init__(self, moments: list[datetime], newest_first: bool, total: str = "exact") -> None:
        self.listing = sorted(moments, reverse=newest_first)
        self.total = total
        self.probes = 0

    def __call__(self, lower: datetime, upper: datetime, offset: int, limit: int) -> Probe:
        self.probes += 1
        inside = [m for m in self.listing if lower <= m < upper]
        total = {"exact": len(inside), "unfiltered": len(self.listing) * 3, "absent": None}[self.total]
        return Probe(total=total, timestamps=inside[offset : offset + limit])


def _uniform(count: int, seed: int = 1) -> list[datetime]:
    rng = random.Random(seed)
    return [LOWER + timedelta(seconds=rng.uniform(0, (UPPER - LOWER).total_seconds())) for _ in range(count)]


def _assert_tiles(windows: list[tuple[datetime, datetime]]) -> None:
    assert windows[0][0] == LOWER and windows[-1][1] == UPPER
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(windows, windows[1:], strict=False))


@pytest.mark.parametrize("newest_first", [True, False])
def test_windows_hold_about_the_planned_number_of_events_and_cost_one_probe_each(newest_first):
    moments = _uniform(5_000)
    api = ListingApi(moments, newest_first)

    windows = list(WindowPlanner(api, PAGE).windows(LOWER, UPPER))

    _assert_tiles(windows)
    expected = len(moments) // (PAGES_PER_WINDOW * PAGE)
    assert len(windows) == expected
    assert api.probes == len(windows)  # the counting probe, then one per cut
    sizes = [sum(1 for m in moments if start <= m < end) for start, end in windows]
    assert max(sizes) <= PAGES_PER_WINDOW * PAGE + 2 * PAGE


def test_a_burst_is_never_cut():
    burst = [LOWER + timedelta(days=100, microseconds=i) for i in range(2_000)]
    api = ListingApi(burst, newest_first=True)

    windows = list(WindowPlanner(api, PAGE).windows(LOWER, UPPER))

    assert windows == [(LOWER, UPPER)]


def test_cuts_fall_in_gaps_away_from_every_event():
    moments = _uniform(3_000, seed=2)
    windows = list(WindowPlanner(ListingApi(moments, newest_first=False), PAGE).windows(LOWER, UPPER))

    assert len(windows) > 1
    for _, cut in windows[:-1]:
        # neighbouring windows both ask for [cut - 1 s, cut + 2 s): no event may sit there to be read twice
        assert cut.microsecond == 0
        assert not any(cut - timedelta(seconds=2) < m < cut + timedelta(seconds=2) for m in moments)


def test_without_a_total_the_range_is_one_window():
    api = ListingApi(_uniform(3_000), newest_first=True, total="absent")

    assert list(WindowPlanner(api, PAGE).windows(LOWER, UPPER)) == [(LOWER, UPPER)]
    assert api.probes == 1


def test_a_total_that_counts_too_much_stops_cutting_at_the_first_empty_probe():
    api = ListingApi(_uniform(3_000), newest_first=False, total="unfiltered")

    windows = list(WindowPlanner(api, PAGE).windows(LOWER, UPPER))

    _assert_tiles(windows)
    assert api.probes <= len(windows) + 1  # the cuts found, and the one probe that came back empty


def test_a_small_range_is_one_window_after_one_probe():
    api = ListingApi(_uniform(PAGES_PER_WINDOW * PAGE), newest_first=True)

    assert list(WindowPlanner(api, PAGE).windows(LOWER, UPPER)) == [(LOWER, UPPER)]
    assert api.probes == 1
