"""Flameup's windows are read one at a time while one reader keeps the pace (a killed sync then repeats at most the
window it was reading), side by side only as far as round trips slower than the pace need it."""

import random
from datetime import timedelta
from types import SimpleNamespace

import pytest

from source_events.flameup import retriever as retriever_module
from source_events.flameup.in_flight import HEADROOM, SyncEnded, WindowsInFlight
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW
from testkit.builders import FLAMEUP, a_flameup_event, catalog, iso, record_ids, run_read, states_of, utc
from testkit.emulator import flameup_end_checks, requests_of

_A, _B, _C = (
    ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
    ("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"),
    (
        "2026-01-03T00:00:00Z",
        "2026-01-04T00:00:00Z",
    ),
)


class _Waits:
    """Stands in for the condition's wait: says whether the window could start at once, and never waits."""

    def __init__(self) -> None:
        self.could_start: list[bool] = []

    def __call__(self, may_start, timeout) -> bool:
        self.could_start.append(may_start())
        return self.could_start[-1]


def test_one_window_at_a_time_before_any_round_trip_and_while_one_reader_keeps_the_pace():
    waits = _Waits()
    in_flight = WindowsInFlight(120, wait=waits)
    assert in_flight.allowed == 1
    for _ in range(20):
        in_flight.cycle(0.3)  # 2 requests a second x 0.3 s x HEADROOM < 1 reader
    assert in_flight.allowed == 1

    in_flight.admit(_A)
    in_flight.admit(_B)  # would wait for _A (this stand-in gives up at once: as after LONGEST_WAIT_SECONDS)
    in_flight.done(_A)
    in_flight.done(_B)
    in_flight.admit(_C)

    assert waits.could_start == [True, False, True]


@pytest.mark.parametrize(
    ("requests_per_minute", "cycle", "readers"),
    [(120, 0.05, 1), (120, 0.45, 2), (120, 1.5, 4), (1_200, 0.5, 13), (100_000, 0.002, 5)],
)
def test_round_trips_slower_than_the_pace_read_as_many_windows_side_by_side_as_it_takes(
    requests_per_minute, cycle, readers
):
    in_flight = WindowsInFlight(requests_per_minute, wait=_Waits())
    for _ in range(40):
        in_flight.cycle(cycle)

    assert in_flight.allowed == readers
    assert readers - 1 < requests_per_minute / 60 * cycle * HEADROOM <= readers


def test_a_slower_cycle_lets_a_waiting_window_start_and_a_faster_one_brings_it_back_to_one():
    waits = _Waits()
    in_flight = WindowsInFlight(120, wait=waits)
    in_flight.cycle(0.1)
    in_flight.admit(_A)
    for _ in range(20):
        in_flight.cycle(2.0)
    in_flight.admit(_B)
    assert in_flight.reading == 2
    for _ in range(40):
        in_flight.cycle(0.1)
    in_flight.admit(_C)

    assert waits.could_start == [True, True, False]


def test_one_stalled_request_among_quick_ones_opens_no_window():
    waits = _Waits()
    in_flight = WindowsInFlight(120, wait=waits)
    for seconds in [0.05] * 6 + [10.0] + [0.05] * 2:  # a retry or a slow answer: the median does not move
        in_flight.cycle(seconds)
    in_flight.admit(_A)
    in_flight.admit(_B)

    assert in_flight.allowed == 1
    assert waits.could_start == [True, False]


def test_a_window_waiting_to_start_when_the_sync_stops_reading_is_never_started():
    waited = []

    def stopped_meanwhile(may_start, timeout):
        if not may_start():
            waited.append(timeout)
            in_flight.close()  # the source's read ended (failed) while the window waited
        return may_start()

    in_flight = WindowsInFlight(120, wait=stopped_meanwhile)
    in_flight.admit(_A)
    with pytest.raises(SyncEnded):
        in_flight.admit(_B)
    assert waited and in_flight.reading == 1


def test_a_window_never_admitted_leaves_the_count_alone():
    in_flight = WindowsInFlight(120, wait=_Waits())
    in_flight.admit(_A)
    in_flight.done(_B)  # `check` reads a window the cursor never handed out
    assert in_flight.reading == 1
    in_flight.done(_A)
    in_flight.done(_A)
    assert in_flight.reading == 0


def _window_of(query, windows):
    """The window a page request belongs to: the one that holds its range and shares a bound with it (a check of
    what lies beyond a window's end shares one; neighbouring windows' ranges overlap by a few seconds, so holding
    it alone could name the wrong one)."""
    since, until = query["since"], query["until"]
    return next(w for w in windows if (w[0] == since or w[1] == until) and w[0] <= since and until <= w[1])


def test_at_a_pace_one_reader_keeps_windows_are_read_one_after_another_each_checkpointed(
    config, flameup, http, monkeypatch, clock
):
    """The default 120 requests a minute (the pace's waits on a fake clock), answered at once (requests-mock: a
    round trip of milliseconds, far under the 0.4 s from which one reader falls behind the pace, however loaded the
    machine; the reader's clock stands still, so its handling takes no time): each window's requests all come
    before the next window's, and a state follows each window, so a sync killed at any moment repeats at most the
    window it was reading."""
    monkeypatch.setattr(retriever_module, "time", SimpleNamespace(monotonic=lambda: 1_000.0))
    rng = random.Random(3)
    now = utc("2026-12-04T12:00:00Z")
    start = now - timedelta(days=3)
    flameup.events = [
        a_flameup_event(iso(start + timedelta(seconds=rng.uniform(0, 3 * 86_400 - 60))), rng)
        for _ in range(3 * MAX_PAGES_PER_WINDOW * 5 + 100)
    ]
    cfg = config.with_flameup(start_date=iso(start), page_size=5, requests_per_minute=120).build()

    output = run_read(cfg, catalog(FLAMEUP))

    assert clock.budget  # the pace waited (on the fake clock)

    assert sorted(record_ids(output, FLAMEUP, "id")) == sorted(e["id"] for e in flameup.events)
    pages = [q for q in requests_of(http, "flameup")[1:] if q["limit"] != "1"]  # not the first look, nor probes
    checks = flameup_end_checks(pages)
    windows = sorted({(q["since"], q["until"]) for q in pages if (q["since"], q["until"]) not in checks})
    assert len(windows) >= 3
    order = [_window_of(q, windows) for q in pages]
    runs = [window for i, window in enumerate(order) if i == 0 or order[i - 1] != window]
    assert runs == windows  # each window's requests in one run, oldest window first: never two at once
    assert len(states_of(output, FLAMEUP)) >= len(windows)
