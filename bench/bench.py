#!/usr/bin/env python3
"""Throughput of the real connector against a raw loop, on the same emulator data, in the same run.

    .venv/bin/python bench/bench.py                 # 100,000 events per stream at 0 ms, 10,000 at 50 ms
    .venv/bin/python bench/bench.py --records 20000 --latency-records 2000
    .venv/bin/python bench/bench.py --smoke         # a few thousand events: CI checks that it runs
    .venv/bin/python bench/bench.py --pacing        # ~3 minutes against the emulator's rate limit
    .venv/bin/python bench/bench.py --memory        # peak RSS of full syncs of 10k, 100k and 1M events

Each run is a subprocess (the connector's `read` through its CLI entrypoint, stdout consumed, or
bench/raw_loop.py); CPU seconds and peak RSS come from that child's rusage. Figures are ratios within one
run: absolute times on shared 2-core machines are noise.
"""

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from source_events.emulator import BemApi, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer, RateLimit
from source_events.manifest import cursor_fields

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 100


@dataclass
class Measure:
    stream: str
    mode: str
    latency_ms: int
    records: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    requests: int

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def _run(
    args: list[str], server: EmulatorServer, state_file: Path | None = None
) -> tuple[int, float, float, float, int]:
    """Run a child; its records, seconds, CPU seconds, peak RSS (MB) and requests. The last STATE message
    goes to `state_file`, as a state file for the next read."""
    before = server.request_count
    rss_file = Path(tempfile.mkstemp(suffix=".rss")[1])
    began = time.monotonic()
    wrapped = [args[0], str(ROOT / "bench" / "peak_rss.py"), *args[1:]]
    process = subprocess.Popen(
        wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PEAK_RSS_FILE": str(rss_file)}
    )
    records, last_state = 0, None
    for line in process.stdout:
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
        elif line.startswith(b'{"type":"STATE"'):
            last_state = line
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"{args[:4]} failed with status {status}")
    if state_file and last_state:
        state_file.write_text(json.dumps([json.loads(last_state)["state"]]))
    peak_rss_kib = int(rss_file.read_text().split()[-1])
    rss_file.unlink()
    return records, seconds, usage.ru_utime + usage.ru_stime, peak_rss_kib / 1024, server.request_count - before


def _connector(
    streams: str | list[str],
    mode: str,
    server: EmulatorServer,
    folder: Path,
    start: datetime,
    page_size: int = PAGE_SIZE,
    requests_per_minute: int = 100_000,  # the emulator does not rate limit here: measure throughput, not pacing
) -> list[str]:
    streams = [streams] if isinstance(streams, str) else streams
    config = {
        "flameup": {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": server.flameup_base_url,
            "page_size": page_size,
            "requests_per_minute": requests_per_minute,
        },
        "bem": {"api_key": BEM_API_KEY, "base_url": server.bem_base_url, "page_size": min(page_size, 100)},
    }
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
    name = "_".join(streams) + f"_{mode}"
    (folder / f"config_{name}.json").write_text(json.dumps(config))
    (folder / f"catalog_{name}.json").write_text(json.dumps(catalog))
    return [
        sys.executable,
        "-m",
        "source_events",
        "read",
        "--config",
        str(folder / f"config_{name}.json"),
        "--catalog",
        str(folder / f"catalog_{name}.json"),
    ]


def _apis(records: int) -> tuple[FlameupApi, BemApi, datetime]:
    end = datetime.now(timezone.utc) - timedelta(minutes=1)
    start = end - timedelta(days=90)
    flameup = FlameupApi(
        WORKSPACE_ID,
        FLAMEUP_API_KEY,
        flameup_events(records, start, end, WORKSPACE_ID, seed=1),
        FlameupBehaviour(limit_cap=1000),
    )
    bem = BemApi(BEM_API_KEY, bem_events(records, end - timedelta(days=2), end, seed=1))
    return flameup, bem, start


def bench(records: int, latency_ms: int, folder: Path) -> list[Measure]:
    flameup, bem, start = _apis(records)
    measures = []
    with EmulatorServer(flameup, bem, latency_seconds=latency_ms / 1000) as server:
        for stream, api, base in (
            ("flameup_events", "flameup", server.flameup_base_url),
            ("bem_events", "bem", server.bem_base_url),
        ):
            raw = _run([sys.executable, str(ROOT / "bench" / "raw_loop.py"), api, base, str(PAGE_SIZE)], server)
            measures.append(Measure(stream, "raw loop", latency_ms, *raw))
            state_file = folder / f"state_{stream}.json"
            for mode in ("full_refresh", "incremental"):
                args = _connector(stream, mode, server, folder, start - timedelta(days=1))
                measures.append(Measure(stream, mode, latency_ms, *_run(args, server, state_file)))
            # the next incremental sync, with nothing new since the last
            unchanged = _run([*args, "--state", str(state_file)], server)
            measures.append(Measure(stream, "no-change inc", latency_ms, *unchanged))
        if latency_ms:
            # both streams in one read, against the raw loops' sequential sum (in print_table)
            both = _run(
                _connector(list(PRIMARY_KEYS), "full_refresh", server, folder, start - timedelta(days=1)), server
            )
            measures.append(Measure("both streams", "full_refresh", latency_ms, *both))
    return measures


def pacing(folder: Path, limit_per_minute: int, records: int) -> None:
    """A long Flameup sync against the emulator's rate limit: the rate it sustains, and any 429."""
    flameup, _, start = _apis(records)
    with EmulatorServer(flameup, None, rate_limit=RateLimit(requests=limit_per_minute, per_seconds=60)) as server:
        args = _connector(
            "flameup_events", "full_refresh", server, folder, start - timedelta(days=1), 10, limit_per_minute
        )
        records_read, seconds, _, _, requests = _run(args, server)
    arrivals = server.flameup_arrivals
    busiest = max(bisect.bisect_left(arrivals, t + 60) - i for i, t in enumerate(arrivals))
    # Without latency the budget spends each minute's allowance at once, then waits: the sustained rate is
    # the requests of every complete cycle (all but the last burst) over the time those cycles took.
    last_pause = max(i for i in range(1, len(arrivals)) if arrivals[i] - arrivals[i - 1] > 5 or i == 1)
    sustained = last_pause / (arrivals[last_pause] - arrivals[0]) * 60 if last_pause > 1 else float("nan")
    print(
        f"pacing: {requests:,} requests, {records_read:,} records in {seconds:,.0f} s against a limit of "
        f"{limit_per_minute:,}/min: sustained {sustained:,.0f}/min ({sustained / limit_per_minute:.1%} of the limit), "
        f"busiest 60 s {busiest:,} requests, 429 answers {server.rate_limited}"
    )


def memory(folder: Path, sizes: list[int]) -> None:
    """Peak RSS of a full sync of each stream as the history grows: it must stay flat."""
    for records in sizes:
        flameup, bem, start = _apis(records)
        with EmulatorServer(flameup, bem) as server:
            for stream in PRIMARY_KEYS:
                read, seconds, _, peak_mb, _ = _run(
                    _connector(stream, "full_refresh", server, folder, start - timedelta(days=1)), server
                )
                print(f"memory: {stream:<15} {read:>9,} records  peak RSS {peak_mb:4.0f} MB  ({seconds:,.0f} s)")


def startup(folder: Path) -> None:
    """How long `spec` and `discover` take from the CLI, against the same commands through the CDK."""
    config = folder / "startup_config.json"
    config.write_text(
        json.dumps(
            {
                "bem": {"api_key": BEM_API_KEY},
                "flameup": {
                    "api_key": FLAMEUP_API_KEY,
                    "workspace_id": WORKSPACE_ID,
                    "start_date": "2026-01-01T00:00:00Z",
                },
            }
        )
    )
    through_cdk = "import sys; from source_events.cdk_run import run; run(sys.argv[1:])"
    for command in (["spec"], ["discover", "--config", str(config)]):
        fast = _best_of(3, [sys.executable, "-m", "source_events", *command])
        cdk = _best_of(3, [sys.executable, "-c", through_cdk, *command])
        print(f"start-up: {command[0]:<8} {fast:5.2f} s (through the CDK: {cdk:4.2f} s)")


def _best_of(times: int, args: list[str]) -> float:
    best = float("inf")
    for _ in range(times):
        began = time.monotonic()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.monotonic() - began)
    return best


def print_table(measures: list[Measure]) -> None:
    raw = {(m.stream, m.latency_ms): m.rate for m in measures if m.mode == "raw loop"}
    raw_seconds = {m.latency_ms: 0.0 for m in measures}
    for m in measures:
        if m.mode == "raw loop":
            raw_seconds[m.latency_ms] += m.seconds
    print(
        f"{'stream':<15} {'mode':<13} {'latency':>7} {'records':>8} {'records/s':>10} {'vs raw':>7} {'CPU s':>6} {'peak RSS':>9} {'requests':>8}"
    )
    for m in measures:
        if m.stream == "both streams":  # wall time against reading both streams sequentially (raw loops)
            ratio = f"{m.seconds / raw_seconds[m.latency_ms]:.2f}w"
        elif m.mode == "no-change inc":  # a handful of records: its figure is the request count
            ratio = "-"
        else:
            ratio = f"{m.rate / raw[(m.stream, m.latency_ms)]:.2f}" if raw.get((m.stream, m.latency_ms)) else "-"
        print(
            f"{m.stream:<15} {m.mode:<13} {m.latency_ms:>5}ms {m.records:>8,} {m.rate:>10,.0f} {ratio:>7} "
            f"{m.cpu_seconds:>6.1f} {m.peak_rss_mb:>7.0f}MB {m.requests:>8,}"
        )
    print("vs raw: records/s against the raw loop; `w`: wall time against both raw loops run one after the other")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="events per stream at 0 ms latency")
    parser.add_argument("--latency-records", type=int, default=10_000, help="events per stream at 50 ms latency")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that the benchmark runs")
    parser.add_argument("--pacing", action="store_true", help="only the pacing run against a rate limit")
    parser.add_argument("--rate-limit", type=int, default=1200, help="the emulator's limit, requests a minute")
    parser.add_argument("--pacing-records", type=int, default=36_000, help="events (pages of 10) for --pacing")
    parser.add_argument("--memory", action="store_true", help="only peak RSS at 10k, 100k and 1M events")
    args = parser.parse_args()
    if args.memory:
        with tempfile.TemporaryDirectory() as folder:
            memory(Path(folder), [10_000, 100_000, 1_000_000])
        return 0
    if args.pacing:
        with tempfile.TemporaryDirectory() as folder:
            pacing(Path(folder), args.rate_limit, args.pacing_records)
        return 0
    if args.smoke:
        args.records, args.latency_records = 3_000, 500
    with tempfile.TemporaryDirectory() as folder:
        measures = bench(args.records, 0, Path(folder)) + bench(args.latency_records, 50, Path(folder))
        print_table(measures)
        startup(Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
