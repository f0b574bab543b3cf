"""The benchmark's own arithmetic (bench/): where Flameup's requests went adds up to every request sent, and the
pace is read over the budget's complete cycles. The figures in docs/performance.md rest on these."""

import importlib
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from source_events.emulator import FlameupBehaviour
from source_events.flameup.windows import window_events
from testkit.builders import catalog, run_read
from testkit.emulator import emulator_config, flameup_history, running_emulator

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def flameup_pace():
    sys.path.append(str(BENCH))  # appended: nothing of the benchmark's can shadow an installed module
    try:
        yield importlib.import_module("flameup_pace")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize("over_cap", ["cap", "reject"])
def test_flameup_costs_account_for_every_request(flameup_pace, over_cap):
    """A sync of three windows' worth at a cap of 20 events a page: each request is counted once, by what it was
    for, and the events it could have carried but did not; with the events read, they add up to the requests."""
    cap = 20
    events = flameup_history(11 * window_events(cap) // 4, timedelta(days=30), seed=3)
    behaviour = FlameupBehaviour(limit_cap=cap, limit_over_cap=over_cap)
    with running_emulator(events, flameup_behaviour=behaviour) as server:
        config = emulator_config(server, flameup={"start_date": "2020-01-01T00:00:00Z"})
        run_read(config, catalog("flameup_events"))
        received = [request for request in server.received if request.api == "flameup"]
        costs = flameup_pace.request_costs(server.flameup, received, cap)

    assert costs["requests"] == len(received)
    sent = ("refused page sizes", "first look", "probes", "end proofs", "closing empty pages", "data pages")
    assert sum(costs[kind] for kind in sent) == len(received)
    unused = ("overlap", "listed by two windows", "room in short pages")
    assert costs["data pages"] == pytest.approx(len(events) / cap + sum(costs[kind] for kind in unused))
    assert costs["windows"] - costs["empty windows"] >= 3  # the history spans several windows
    assert costs["closing empty pages"] == costs["windows"]  # each window ends on one empty page, its only if empty
    assert costs["overlap"] > 0  # each page after a full one re-reads the last event read
    assert (costs["refused page sizes"] > 0) == (over_cap == "reject")
    # a listing deeper than any before is shown ended by the history: the first few windows read side by side
    assert costs["end proofs"] <= costs["windows"] / 3


def test_pace_is_read_over_complete_cycles(flameup_pace):
    """Bursts of requests with the budget's pauses between them: the last cycle starts after the last pause."""
    bursts = [start + 0.01 * i for start in (0.0, 60.0, 120.0) for i in range(120)] + [180.0, 180.01]
    assert flameup_pace._last_cycle_start(bursts) == 360
    assert flameup_pace._last_cycle_start([0.0, 0.5, 1.0]) == 2  # never paused: the whole run


def test_flameup_costs_of_a_one_window_sync_count_its_pages_as_pages(flameup_pace):
    """A history of half a window read as one window, with the check beyond its listing's end (a part of the
    history): its pages are data pages, and no request is an end proof (`_prove_end` asks nothing of a sync's
    first window). The benchmark's smoke run once counted 43 of 48 requests as end proofs."""
    cap = 20
    events = flameup_history(window_events(cap) // 2, timedelta(days=30), seed=5)
    with running_emulator(events, flameup_behaviour=FlameupBehaviour(limit_cap=cap)) as server:
        config = emulator_config(server, flameup={"start_date": "2020-01-01T00:00:00Z"})
        run_read(config, catalog("flameup_events"))
        received = [request for request in server.received if request.api == "flameup"]
        costs = flameup_pace.request_costs(server.flameup, received, cap)

    assert costs["end proofs"] == 0
    assert costs["data pages"] >= len(events) / cap
    sent = ("refused page sizes", "first look", "probes", "end proofs", "closing empty pages", "data pages")
    assert sum(costs[kind] for kind in sent) == len(received)


@pytest.fixture
def harness():
    sys.path.append(str(BENCH))
    try:
        yield importlib.import_module("harness")
    finally:
        sys.path.remove(str(BENCH))


def test_a_child_s_last_line_cut_short_is_no_message(harness, tmp_path):
    """A child killed (SIGKILL) while it writes a line leaves that line unended: the benchmark counts the whole lines
    only (CI's smoke run of the kills failed once on such a line, JSONDecodeError)."""
    record = '{"type":"RECORD","record":{"stream":"bem_events","data":{"eventID":"ev_1"},"emitted_at":1}}'
    script = tmp_path / "child.py"
    script.write_text(f"import sys\nsys.stdout.write({record!r} + '\\n' + {record[:40]!r})\n")

    run = harness.run_child([sys.executable, str(script)])

    assert run.keys == {"bem_events": ["ev_1"]}
