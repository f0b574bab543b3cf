"""The connector's own cost, with no latency and no rate limit (a secondary figure: production speed is set by the
APIs' latency and limits, see the other modes): a full sync of each stream against the raw loop
(bench/raw_loop.py: requests.Session, JSON, one protocol line per record), on the same emulator data in the same
run, in records a second and CPU µs a record, start-up left out (each side's run against an empty listing is
subtracted). Flameup's pace is lifted (`requests_per_minute` 100,000) and its page size unset (the emulator
serves 1000); bem's pages are 100. The raw loop asks for the same pages."""

import tempfile
from pathlib import Path

from harness import ChildRun, bem_api, connector_args, flameup_api, raw_loop_args, run_child

from source_events.emulator import BemApi, FlameupApi
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer

PAGES = {"flameup_events": 1000, "bem_events": 100}


def cpu(records: int, streams: tuple[str, ...] = ("flameup_events", "bem_events"), startup_runs: bool = True) -> None:
    """`startup_runs` False (the smoke run): no runs against an empty listing, start-up included in the figures."""
    flameup, start = flameup_api(records)
    apis = {"flameup_events": (flameup, None), "bem_events": (None, bem_api(records))}
    empty = {
        "flameup_events": (FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, []), None),
        "bem_events": (None, BemApi(BEM_API_KEY, [])),
    }
    with tempfile.TemporaryDirectory() as folder:
        for stream in streams:
            served = apis[stream]
            api = "flameup" if stream == "flameup_events" else "bem"
            runs: dict[str, list[ChildRun]] = {}
            for side in ("raw loop", "connector"):
                runs[side] = []
                for data in (served, empty[stream]) if startup_runs else (served,):
                    with EmulatorServer(*data) as server:
                        args = (
                            raw_loop_args(api, server, PAGES[stream])
                            if side == "raw loop"
                            else connector_args(
                                Path(folder), server, [stream], start=start, requests_per_minute=100_000
                            )
                        )
                        runs[side].append(run_child(args, keep_keys=False))
            (raw, *raw_idle), (ours, *ours_idle) = runs["raw loop"], runs["connector"]
            if not startup_runs:
                print(
                    f"cpu: {stream:<15} {ours.records:,} records, start-up included: CPU "
                    f"{ours.cpu_seconds / ours.records * 1e6:.1f} µs a record = "
                    f"{ours.cpu_seconds / raw.cpu_seconds:.2f} x the raw loop's; peak RSS {ours.peak_rss_mb:.0f} MB",
                    flush=True,
                )
                continue
            raw_idle, ours_idle = raw_idle[0], ours_idle[0]
            if min(ours.seconds - ours_idle.seconds, raw.seconds - raw_idle.seconds) <= 0:
                # start-up varies more than the reading takes: nothing to subtract it from
                print(f"cpu: {stream:<15} {ours.records:,} records: too few to tell from start-up", flush=True)
                continue
            rate = ours.records / (ours.seconds - ours_idle.seconds)
            raw_rate = raw.records / (raw.seconds - raw_idle.seconds)
            cpu_us = (ours.cpu_seconds - ours_idle.cpu_seconds) / ours.records * 1e6
            raw_cpu_us = (raw.cpu_seconds - raw_idle.cpu_seconds) / raw.records * 1e6
            print(
                f"cpu: {stream:<15} {ours.records:,} records, no latency, no limit, start-up left out: "
                f"{rate:,.0f} records/s = {rate / raw_rate:.2f} x the raw loop's {raw_rate:,.0f}; CPU {cpu_us:.1f} µs "
                f"a record = {cpu_us / raw_cpu_us:.2f} x the raw loop's {raw_cpu_us:.1f}; peak RSS "
                f"{ours.peak_rss_mb:.0f} MB (raw loop {raw.peak_rss_mb:.0f} MB); start-up {ours_idle.seconds:.2f} s "
                f"(raw loop {raw_idle.seconds:.2f} s)",
                flush=True,
            )
