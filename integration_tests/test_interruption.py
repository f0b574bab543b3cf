"""A `read` killed with SIGKILL at any point (while paging, between windows, during a retry wait) and
resumed from the last state it emitted loses nothing, and re-reads only a bounded amount. The connector
runs as the real CLI in a subprocess; the emulator serves it with a little latency so kills land mid-page."""

import json
import random
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from source_events.common.timestamps import parse_timestamp
from source_events.emulator import BemApi, FlameupApi
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer, Fault
from source_events.flameup.windows import MAX_PAGES_PER_WINDOW
from testkit.emulator import emulator_config

CATALOG = json.loads((Path(__file__).parent / "configured_catalog.json").read_text())
PAGE_SIZE = 20
KEYS = PRIMARY_KEYS


@pytest.fixture(scope="module")
def server():
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    flameup = FlameupApi(
        WORKSPACE_ID, FLAMEUP_API_KEY, flameup_events(500, end - timedelta(days=30), end, WORKSPACE_ID, seed=6)
    )
    bem = BemApi(BEM_API_KEY, bem_events(400, end - timedelta(hours=6), end, seed=6))
    with EmulatorServer(flameup, bem, latency_seconds=0.005) as running:
        yield running


class Run:
    """One `read` subprocess: what it emitted before it ended or was killed."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {stream: [] for stream in KEYS}
        self.states: dict[str, dict] = {}
        self.killed = False
        self.count = 0


def _read(tmp_path: Path, config: dict, states: dict, kill_when=None) -> Run:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(CATALOG))
    args = [
        sys.executable,
        "-m",
        "source_events",
        "read",
        "--config",
        str(tmp_path / "config.json"),
        "--catalog",
        str(tmp_path / "catalog.json"),
    ]
    if states:
        state_messages = [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": s}}
            for n, s in states.items()
        ]
        (tmp_path / "state.json").write_text(json.dumps(state_messages))
        args += ["--state", str(tmp_path / "state.json")]
    run = Run()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in process.stdout:
            message = json.loads(line)
            if message["type"] == "RECORD":
                stream = message["record"]["stream"]
                run.records[stream].append(message["record"]["data"][KEYS[stream]])
                run.count += 1
            elif message["type"] == "STATE":
                run.states[message["state"]["stream"]["stream_descriptor"]["name"]] = message["state"]["stream"][
                    "stream_state"
                ]
            if kill_when and kill_when(run, message):
                process.send_signal(signal.SIGKILL)
                run.killed = True
                break
    finally:
        process.wait(timeout=120)
    assert run.killed or process.returncode == 0, f"read failed with exit code {process.returncode}"
    return run


def _after_records(n):
    return lambda run, message: run.count >= n


def _after_states(n):
    seen = []
    return lambda run, message: message["type"] == "STATE" and len(seen.append(1) or seen) >= n


def _kill_points():
    rng = random.Random(2026)
    points = [pytest.param(_after_records(n), id=f"after_{n}_records") for n in sorted(rng.sample(range(1, 880), 8))]
    points += [pytest.param(_after_records(1), id="after_the_first_record")]
    points += [pytest.param(_after_states(n), id=f"right_after_state_message_{n}") for n in (1, 4, 9)]
    return points


def _resume_to_the_end(tmp_path, config, runs: list[Run]) -> list[Run]:
    """Resume from the newest state of each stream, as the platform does, until a run completes."""
    runs = list(runs)
    while runs[-1].killed:
        states: dict[str, dict] = {}
        for run in runs:
            states.update(run.states)
        runs.append(_read(tmp_path, config, states))
    return runs


def _assert_nothing_lost(server, runs: list[Run]) -> None:
    truth = server.ground_truth()
    for stream, key_set in truth.items():
        emitted = {k for run in runs for k in run.records[stream]}
        assert emitted == key_set, f"{stream}: {len(key_set - emitted)} lost over {len(runs)} runs"


def _config(server):
    return emulator_config(
        server,
        flameup={
            "start_date": (datetime.now(timezone.utc) - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "page_size": PAGE_SIZE,
        },
        bem={"page_size": PAGE_SIZE},
    )


@pytest.mark.parametrize("kill_when", _kill_points())
def test_a_killed_sync_resumed_from_its_last_state_loses_nothing_and_rereads_little(server, tmp_path, kill_when):
    server.faults = []
    config = _config(server)

    killed = _read(tmp_path, config, {}, kill_when)
    runs = _resume_to_the_end(tmp_path, config, [killed])

    _assert_nothing_lost(server, runs)
    assert killed.killed
    # re-read after resuming: at most the windows in flight (the concurrent reader starts two at a time)
    # plus the lookback for Flameup; for bem, at most the last second read plus the page each of its two readers
    # had in flight (a state follows a page's records: killed while both pages were being written, a loaded
    # machine's run re-read 36 events at pages of 20)
    resumed = runs[-1]
    reread_flameup = set(killed.records["flameup_events"]) & set(resumed.records["flameup_events"])
    assert len(reread_flameup) <= 2 * _largest_window(server) + _events_in_lookback(server)
    reread_bem = set(killed.records["bem_events"]) & set(resumed.records["bem_events"])
    assert len(reread_bem) <= 2 * PAGE_SIZE + _largest_second(server)


def test_a_sync_killed_during_a_retry_wait_resumes_without_loss(server, tmp_path):
    fault = Fault(kind="unavailable", at_request=server.requests_by_api["bem"] + 3, retry_after_seconds=30, api="bem")
    server.faults = [fault]
    config = _config(server)
    served_before = len(server.served_faults)

    def while_waiting_to_retry(run, message):
        # the connector logs the wait before it sleeps on Retry-After: 30
        return message["type"] == "LOG" and "Next try in 31 s" in message["log"]["message"]

    killed = _read(tmp_path, config, {}, while_waiting_to_retry)
    requests_when_killed = server.requests_by_api["bem"]
    server.faults = []
    runs = _resume_to_the_end(tmp_path, config, [killed])

    assert killed.killed and len(server.served_faults) == served_before + 1
    # killed while waiting: the 503 was among bem's last requests (its other reader reads on meanwhile)
    assert requests_when_killed >= fault.at_request
    _assert_nothing_lost(server, runs)


def test_a_sync_killed_again_and_again_still_completes_without_loss(server, tmp_path):
    server.faults = []
    config = _config(server)
    runs: list[Run] = []
    states: dict[str, dict] = {}
    for _ in range(3):
        run = _read(tmp_path, config, states, _after_records(150))
        runs.append(run)
        states.update(run.states)

    runs = _resume_to_the_end(tmp_path, config, runs)

    assert sum(run.killed for run in runs) == 3
    _assert_nothing_lost(server, runs)


def _largest_window(server) -> int:
    """Windows hold at most MAX_PAGES_PER_WINDOW pages (source_events.flameup.windows)."""
    return min(len(server.flameup.events), MAX_PAGES_PER_WINDOW * PAGE_SIZE)


def _events_in_lookback(server) -> int:
    latest = max(parse_timestamp(e["timestamp"]) for e in server.flameup.events)
    return sum(1 for e in server.flameup.events if parse_timestamp(e["timestamp"]) >= latest - timedelta(minutes=10))


def _largest_second(server) -> int:
    seconds = [e["_created"][0] for e in server.bem.events]
    return max(seconds.count(s) for s in set(seconds))
