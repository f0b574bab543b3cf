#!/usr/bin/env python3
"""Throughput of the real connector against a raw loop, on the same emulator data, in the same run.

    .venv/bin/python bench/bench.py                 # 100,000 events per stream at 0 ms, 10,000 at 50 ms
    .venv/bin/python bench/bench.py --records 20000 --latency-records 2000
    .venv/bin/python bench/bench.py --smoke         # a few thousand events: CI checks that it runs

Each run is a subprocess (the connector's `read` through its CLI entrypoint, stdout consumed, or
bench/raw_loop.py); CPU seconds and peak RSS come from that child's rusage. Figures are ratios within one
run: absolute times on shared 2-core machines are noise.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from source_events.emulator import BemApi, FlameupApi, FlameupBehaviour
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer

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


def _run(args: list[str], server: EmulatorServer) -> tuple[int, float, float, float, int]:
    before = server.request_count
    rss_file = Path(tempfile.mkstemp(suffix=".rss")[1])
    began = time.monotonic()
    wrapped = [args[0], str(ROOT / "bench" / "peak_rss.py"), *args[1:]]
    process = subprocess.Popen(
        wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PEAK_RSS_FILE": str(rss_file)}
    )
    records = 0
    for line in process.stdout:
        if line.startswith(b'{"type":"RECORD"'):
            records += 1
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - began
    if status != 0:
        raise SystemExit(f"{args[:4]} failed with status {status}")
    peak_rss_kib = int(rss_file.read_text().split()[-1])
    rss_file.unlink()
    return records, seconds, usage.ru_utime + usage.ru_stime, peak_rss_kib / 1024, server.request_count - before


def _connector(stream: str, mode: str, server: EmulatorServer, folder: Path, start: datetime) -> list[str]:
    config = {
        "flameup": {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": server.flameup_base_url,
            "page_size": PAGE_SIZE,
            "requests_per_minute": 100_000,  # the emulator does not rate limit here: measure throughput, not pacing
        },
        "bem": {"api_key": BEM_API_KEY, "base_url": server.bem_base_url, "page_size": PAGE_SIZE},
    }
    cursor = {"flameup_events": "timestamp", "bem_events": "eventID"}[stream]
    key = PRIMARY_KEYS[stream]
    catalog = {
        "streams": [
            {
                "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": mode,
                "cursor_field": [cursor],
                "destination_sync_mode": "append",
                "primary_key": [[key]],
            }
        ]
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / f"catalog_{stream}_{mode}.json").write_text(json.dumps(catalog))
    return [
        sys.executable,
        "-m",
        "source_events",
        "read",
        "--config",
        str(folder / "config.json"),
        "--catalog",
        str(folder / f"catalog_{stream}_{mode}.json"),
    ]


def bench(records: int, latency_ms: int, folder: Path) -> list[Measure]:
    end = datetime.now(UTC) - timedelta(minutes=1)
    start = end - timedelta(days=90)
    flameup = FlameupApi(
        WORKSPACE_ID,
        FLAMEUP_API_KEY,
        flameup_events(records, start, end, WORKSPACE_ID, seed=1),
        FlameupBehaviour(limit_cap=1000),
    )
    bem = BemApi(BEM_API_KEY, bem_events(records, end - timedelta(days=2), end, seed=1))
    measures = []
    with EmulatorServer(flameup, bem, latency_seconds=latency_ms / 1000) as server:
        for stream, api, base in (
            ("flameup_events", "flameup", server.flameup_base_url),
            ("bem_events", "bem", server.bem_base_url),
        ):
            raw = _run([sys.executable, str(ROOT / "bench" / "raw_loop.py"), api, base, str(PAGE_SIZE)], server)
            measures.append(Measure(stream, "raw loop", latency_ms, *raw))
            for mode in ("full_refresh", "incremental"):
                measures.append(
                    Measure(
                        stream,
                        mode,
                        latency_ms,
                        *_run(_connector(stream, mode, server, folder, start - timedelta(days=1)), server),
                    )
                )
    return measures


def print_table(measures: list[Measure]) -> None:
    raw = {(m.stream, m.latency_ms): m.rate for m in measures if m.mode == "raw loop"}
    print(
        f"{'stream':<15} {'mode':<13} {'latency':>7} {'records':>8} {'records/s':>10} {'vs raw':>7} {'CPU s':>6} {'peak RSS':>9} {'requests':>8}"
    )
    for m in measures:
        ratio = m.rate / raw[(m.stream, m.latency_ms)] if raw.get((m.stream, m.latency_ms)) else 0
        print(
            f"{m.stream:<15} {m.mode:<13} {m.latency_ms:>5}ms {m.records:>8,} {m.rate:>10,.0f} {ratio:>7.2f} "
            f"{m.cpu_seconds:>6.1f} {m.peak_rss_mb:>7.0f}MB {m.requests:>8,}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="events per stream at 0 ms latency")
    parser.add_argument("--latency-records", type=int, default=10_000, help="events per stream at 50 ms latency")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that the benchmark runs")
    args = parser.parse_args()
    if args.smoke:
        args.records, args.latency_records = 3_000, 500
    with tempfile.TemporaryDirectory() as folder:
        measures = bench(args.records, 0, Path(folder)) + bench(args.latency_records, 50, Path(folder))
    print_table(measures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
