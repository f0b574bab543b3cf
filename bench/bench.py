#!/usr/bin/env python3
"""What users wait for, measured against the emulator with a round trip's latency and Flameup's rate limit.

    .venv/bin/python bench/bench.py --bem            # ~14 min: bem's first sync of 100,000 events at 50 and 200 ms
    .venv/bin/python bench/bench.py --bem --records 10000 --pairs 3   # ~3 min: the same at 10,000 events
    .venv/bin/python bench/bench.py --flameup        # ~10 min: Flameup at 120 requests/min, caps of 100 and 1000
    .venv/bin/python bench/bench.py --kills          # ~16 min: syncs killed at random moments and resumed
    .venv/bin/python bench/bench.py --memory         # ~20 min: peak RSS at 10,000 and 1,000,000 events
    .venv-py313/bin/python bench/bench.py --startup  # ~1 min: check's wait on the image's Python (3.13)
    .venv/bin/python bench/bench.py --cpu            # ~1 min: the connector's CPU against a raw loop (secondary)
    .venv/bin/python bench/bench.py --smoke          # ~20 s: every mode once at tiny sizes (CI: it runs, not judged)

Flameup's pace runs on the real clock (the CDK's API budget in the connector's process): its modes take real
minutes (`--minutes` sets how many complete budget minutes a case).

Each run is a child process (the connector's `read` or `check` through its CLI, or bench/raw_loop.py) timed
from its launch to its exit, start-up included unless a line says otherwise. Each mode ends with its targets
(docs/performance.md), each judged against what this run measured, the least favourable first.
"""

import argparse
import io
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this one, wherever it is run from

from bem_first_sync import first_sync  # noqa: E402
from bem_first_sync import report as bem_report  # noqa: E402
from cpu import cpu  # noqa: E402
from flameup_pace import CASES, pace  # noqa: E402
from kills import kills  # noqa: E402
from memory import memory  # noqa: E402
from startup import startup  # noqa: E402

Row = tuple[str, float, float, str]  # what a target is about, the value measured, the target, "<=" or ">="


def print_targets(rows: list[Row], judged: bool) -> None:
    """Every target this run measured, the least favourable first (the smallest margin to the target)."""
    if not judged:
        print("target: smoke sizes: the figures above are not judged")
        return

    def met(row: Row) -> bool:
        _, value, target, sense = row
        return value >= target if sense == ">=" else value <= target

    def least_favourable_first(row: Row) -> tuple[bool, float]:
        # missed targets first, then by the share of the target left to spare; a count that must stay 0 (events
        # lost, 429 answers) last once it is
        _, value, target, sense = row
        margin = ((value - target) if sense == ">=" else (target - value)) / (abs(target) or 1.0)
        return met(row), margin if target or not met(row) else float("inf")

    for name, value, target, sense in sorted(rows, key=least_favourable_first):
        met_ = met((name, value, target, sense))
        print(f"target: {name:<66} {value:8.3f} {sense} {target:<6g} {'met' if met_ else 'NOT MET'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bem", action="store_true", help="bem's first sync against one sequential reader")
    mode.add_argument(
        "--flameup", "--pacing", "--page-sizes", action="store_true", help="Flameup's pace and events a minute"
    )
    mode.add_argument("--kills", action="store_true", help="work repeated after a kill, resumed from its state")
    mode.add_argument("--memory", action="store_true", help="peak RSS of full syncs as the history grows")
    mode.add_argument("--startup", action="store_true", help="check's wait, and the other commands' start-up")
    mode.add_argument("--cpu", action="store_true", help="records/s and CPU/record against a raw loop, no latency")
    mode.add_argument("--smoke", action="store_true", help="every mode once at tiny sizes, side by side: it runs (CI)")
    parser.add_argument("--records", type=int, help="events: --bem 100,000, --cpu 50,000")
    parser.add_argument("--latency-ms", type=int, nargs="+", help="--bem: 50 200; --flameup, --kills: 50")
    parser.add_argument("--pairs", type=int, default=2, help="--bem: raw-loop/connector pairs a latency (2)")
    parser.add_argument("--minutes", type=float, default=3, help="--flameup: complete budget minutes a case (3)")
    parser.add_argument(
        "--pages-of-1000", action="store_true", help="--flameup: only the case whose API serves pages of 1,000"
    )
    parser.add_argument("--points", type=int, default=3, help="--kills: kill points a stream (3)")
    parser.add_argument("--seed", type=int, default=1, help="--kills: where the kill points fall (1)")
    parser.add_argument(
        "--kill-sizes",
        type=int,
        nargs=2,
        default=[24_000, 100_000],
        help="--kills: Flameup's and bem's events (default: 24,000 and 100,000)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="--memory: events")
    parser.add_argument("--runs", type=int, default=5, help="--startup: runs a figure, the median printed (5)")
    args = parser.parse_args()
    if args.smoke:
        smoke()
        return 0
    latency = args.latency_ms
    rows: list[Row] = []
    if args.bem:
        records = args.records or 100_000
        rows += bem_report(records, first_sync(records, latency or [50, 200], args.pairs))
    if args.flameup:
        cases = [case for case in CASES if case[2] == 1000] if args.pages_of_1000 else CASES
        rows += pace(args.minutes, (latency or [50])[0], cases=cases)
    if args.kills:
        rows += kills(args.points, args.seed, *args.kill_sizes, latency_ms=(latency or [50])[0])
    if args.memory:
        rows += memory(args.sizes)
    if args.startup:
        rows += startup(args.runs)
    if args.cpu:
        cpu(args.records or 50_000)
    print_targets(rows, judged=True)
    return 0


def smoke() -> None:
    """Every mode once, at sizes that take seconds, the modes side by side (each mostly waits on its child
    processes' start-up); each mode's lines printed together, in order. Nothing judged: the machine is shared and
    the sizes are too small for the targets' conditions."""
    jobs = {
        "bem": lambda: bem_report(1_000, first_sync(1_000, [20], 1)),
        "flameup": lambda: pace(0.05, 20, cases=CASES[:1]),
        "kills": lambda: kills(1, 1, 3_000, 0, latency_ms=20, streams=("flameup_events",)),
        "memory": lambda: memory([2_000], streams=("bem_events",)),
        "startup": lambda: startup(1, lean=True),
        "cpu": lambda: cpu(2_000, streams=("bem_events",), startup_runs=False),
    }
    began = time.monotonic()
    router = _PerThreadStdout(sys.stdout)
    sys.stdout = router
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = {name: pool.submit(router.captured, job) for name, job in jobs.items()}
            outputs = {name: future.result() for name, future in futures.items()}
    finally:
        sys.stdout = router.default
    for name, (printed, error) in outputs.items():
        print(printed, end="")
        if error is not None:
            raise SystemExit(f"bench --smoke: {name} failed: {error!r}")
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"smoke: {time.monotonic() - began:.1f} s, CPU: the benchmark's own {own.ru_utime + own.ru_stime:.1f} s, "
        f"its child processes' {children.ru_utime + children.ru_stime:.1f} s"
    )
    print_targets([], judged=False)


class _PerThreadStdout:
    """sys.stdout while modes run side by side: each thread's lines go to a buffer of its own."""

    def __init__(self, default) -> None:
        self.default = default
        self._local = threading.local()

    def write(self, text: str) -> int:
        return getattr(self._local, "buffer", self.default).write(text)

    def flush(self) -> None:
        getattr(self._local, "buffer", self.default).flush()

    def captured(self, job) -> tuple[str, BaseException | None]:
        """What `job` printed, and what it raised (None if nothing)."""
        self._local.buffer = io.StringIO()
        try:
            job()
            error = None
        except BaseException as raised:  # SystemExit too: a child failed; reported with the mode's name
            error = raised
        return self._local.buffer.getvalue(), error


if __name__ == "__main__":
    sys.exit(main())
