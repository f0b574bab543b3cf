"""What every benchmark shares: seeded histories on the emulator, a config and catalog for the connector, and one
child process run from launch to exit (or to a kill), with what it printed, when, and what it cost.

Each run is a child process (the connector's `read` through its CLI, or bench/raw_loop.py), so its start-up,
its CPU seconds and its peak RSS are its own. Times are wall seconds from the launch.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer
from source_events.manifest import cursor_fields

ROOT = Path(__file__).resolve().parent.parent
API_OF = {"flameup_events": "flameup", "bem_events": "bem"}
# Flameup's history spans 90 days, bem's 2 days: what each benchmark states as its density
FLAMEUP_DAYS, BEM_DAYS = 90, 2


def flameup_api(records: int, behaviour: FlameupBehaviour | None = None) -> tuple[FlameupApi, datetime]:
    """Flameup with `records` seeded events over the 90 days up to a minute ago (pages of at most 1000 unless
    `behaviour` says otherwise), and a start date before all of them."""
    end = datetime.now(timezone.utc) - timedelta(minutes=1)
    start = end - timedelta(days=FLAMEUP_DAYS)
    events = flameup_events(records, start, end, WORKSPACE_ID, seed=1)
    return FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, events, behaviour or FlameupBehaviour(limit_cap=1000)), start


BEM_CHUNK = 100_000  # the emulator's generator takes time quadratic in its count: larger histories come in parts


def bem_api(records: int, behaviour: BemBehaviour | None = None) -> BemApi:
    """bem with `records` seeded events over the 2 days up to a minute ago; past BEM_CHUNK events, generated
    a chunk of consecutive seconds at a time (disjoint spans, a seed each), concatenated in creation order."""
    end = datetime.now(timezone.utc) - timedelta(minutes=1)
    start = end - timedelta(days=BEM_DAYS)
    chunks = -(-records // BEM_CHUNK) or 1
    span = (end - start) / chunks
    events = []
    for chunk in range(chunks):
        count = min(BEM_CHUNK, records - chunk * BEM_CHUNK) if records else 0
        # each span ends a second before the next begins: no second is shared by two chunks
        chunk_end = start + span * (chunk + 1) - (timedelta(seconds=1) if chunk < chunks - 1 else timedelta(0))
        events += bem_events(count, start + span * chunk, chunk_end, seed=1 + chunk)
    return BemApi(BEM_API_KEY, events, behaviour)


def connector_args(
    folder: Path,
    server: EmulatorServer,
    streams: list[str],
    mode: str = "full_refresh",
    start: datetime | None = None,
    requests_per_minute: int = 120,  # Flameup's default pace
    page_size: int | None = None,  # Flameup's; None: unset, found at run time
    state: dict[str, Any] | None = None,  # stream -> its saved state
    name: str = "run",
) -> list[str]:
    """The connector's `read` of `streams` against `server`, with the default settings but these."""
    start = start or datetime.now(timezone.utc) - timedelta(days=FLAMEUP_DAYS + 1)
    config: dict[str, Any] = {}
    if "flameup_events" in streams:
        config["flameup"] = {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": server.flameup_base_url,
            "requests_per_minute": requests_per_minute,
            **({"page_size": page_size} if page_size else {}),
        }
    if "bem_events" in streams:
        config["bem"] = {"api_key": BEM_API_KEY, "base_url": server.bem_base_url}
    catalog = {
        "streams": [
            {
                "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": mode,
                "cursor_field": [cursor_fields()[stream]],
                "destination_sync_mode": "append",
                "primary_key": [[PRIMARY_KEYS[stream]]],
            }
            for stream in streams
        ]
    }
    (folder / f"config_{name}.json").write_text(json.dumps(config))
    (folder / f"catalog_{name}.json").write_text(json.dumps(catalog))
    args = [sys.executable, "-m", "source_events", "read"]
    args += ["--config", str(folder / f"config_{name}.json"), "--catalog", str(folder / f"catalog_{name}.json")]
    if state:
        messages = [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": saved}}
            for stream, saved in state.items()
        ]
        (folder / f"state_{name}.json").write_text(json.dumps(messages))
        args += ["--state", str(folder / f"state_{name}.json")]
    return args


def raw_loop_args(api: str, server: EmulatorServer, page_size: int) -> list[str]:
    """bench/raw_loop.py: one request after another, as a plain loop reads the API."""
    base = server.flameup_base_url if api == "flameup" else server.bem_base_url
    return [sys.executable, str(ROOT / "bench" / "raw_loop.py"), api, base, str(page_size)]


@dataclass
class ChildRun:
    """What one child process printed and cost, from its launch."""

    seconds: float = 0.0  # launch to exit, or to the kill
    first_record: float | None = None  # launch to the first RECORD line
    keys: dict[str, list[str]] = field(default_factory=dict)  # stream -> primary keys emitted, in order
    record_times: list[float] = field(default_factory=list)  # when each record arrived, from the launch
    states: dict[str, Any] = field(default_factory=dict)  # stream -> the last state it emitted
    cpu_seconds: float = 0.0
    peak_rss_mb: float | None = None  # None when killed (it cannot report its own)
    killed: bool = False
    launched_at: float = 0.0  # unix seconds, the emulator's clock

    @property
    def records(self) -> int:
        return sum(len(keys) for keys in self.keys.values())


def run_child(
    args: list[str], kill_after: float | None = None, keep_times: bool = False, keep_keys: bool = True
) -> ChildRun:
    """Run `args` (a Python command: sys.executable first) to its end, or SIGKILL it `kill_after` seconds after
    its launch. Every RECORD's primary key is kept (`keep_keys`; else only counted, under the key None), and the
    last STATE of each stream."""
    rss_file = Path(tempfile.mkstemp(suffix=".rss")[1])
    wrapped = [args[0], str(ROOT / "bench" / "peak_rss.py"), *args[1:]]
    run = ChildRun(launched_at=time.time())
    began = time.monotonic()
    process = subprocess.Popen(
        wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PEAK_RSS_FILE": str(rss_file)}
    )
    timer = threading.Timer(kill_after, process.kill) if kill_after is not None else None
    if timer:
        timer.start()
    for line in process.stdout:
        if not line.endswith(b"\n"):
            break  # the last line of a child killed while writing it: no message (CI's smoke run once failed on one)
        if line.startswith(b'{"type":"RECORD"'):
            if keep_keys:
                record = orjson.loads(line)["record"]
                stream = record["stream"]
                run.keys.setdefault(stream, []).append(record["data"].get(PRIMARY_KEYS[stream]))
            else:
                run.keys.setdefault(None, []).append(None)
            if run.first_record is None or keep_times:
                moment = time.monotonic() - began
                run.first_record = run.first_record if run.first_record is not None else moment
                if keep_times:
                    run.record_times.append(moment)
        elif line.startswith(b'{"type":"STATE"'):
            stream_state = orjson.loads(line)["state"]["stream"]
            run.states[stream_state["stream_descriptor"]["name"]] = stream_state["stream_state"]
    _, status, usage = os.wait4(process.pid, 0)
    run.seconds = time.monotonic() - began
    if timer:
        timer.cancel()
    run.killed = status != 0 and kill_after is not None and run.seconds >= kill_after
    if status != 0 and not run.killed:
        raise SystemExit(f"{' '.join(args[:4])} failed with status {status}")
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    report = rss_file.read_text().split()
    run.peak_rss_mb = int(report[-1]) / 1024 if report else None
    rss_file.unlink()
    return run


def missing_and_repeated(run_keys: list[str], truth: set[str]) -> tuple[int, int, int]:
    """Events of `truth` never emitted, events emitted that are not in it, and records emitted twice."""
    emitted = set(run_keys)
    return len(truth - emitted), len(emitted - truth), len(run_keys) - len(emitted)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
