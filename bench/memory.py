"""Peak memory (the child's VmHWM, bench/peak_rss.py) of a full sync of each stream as the history grows.

bem at the default settings. Flameup at its default pace (120 requests a minute: windows read one at a time) up to
DEFAULT_PACE_UP_TO events, and with the pace lifted (`requests_per_minute` 100,000: the most readers the
manifest allows, each holding a window's page) at every size: the least favourable, and the only one that
reads a million events in a minute rather than in nine.
"""

import tempfile
from datetime import timedelta
from pathlib import Path

from harness import bem_api, connector_args, flameup_api, run_child

from source_events.emulator.server import EmulatorServer

TARGET_MB = 100
UNPACED = 100_000
# Flameup at the default pace up to this many events: 1,000 pages of 1,000, eight and a half minutes of its budget
# (ten windows one after another: what stays of a window once the next one is read would show)
DEFAULT_PACE_UP_TO = 1_000_000


def memory(
    sizes: list[int], streams: tuple[str, ...] = ("bem_events", "flameup_events")
) -> list[tuple[str, float, float, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for records in sizes:
            flameup, start = flameup_api(records)
            runs = [("bem_events", None, (None, bem_api(records)))]
            if records <= DEFAULT_PACE_UP_TO:
                runs.append(("flameup_events", 120, (flameup, None)))
            runs.append(("flameup_events", UNPACED, (flameup, None)))
            for stream, pace, apis in (run for run in runs if run[0] in streams):
                with EmulatorServer(*apis) as server:
                    args = connector_args(
                        Path(folder), server, [stream], start=start - timedelta(days=1), requests_per_minute=pace or 120
                    )
                    run = run_child(args)
                settings = f"requests_per_minute {pace:,}" if pace else "default settings"
                print(
                    f"memory: {stream:<15} {run.records:>9,} records  peak RSS {run.peak_rss_mb:4.0f} MB  "
                    f"({settings}; {run.seconds:,.0f} s)",
                    flush=True,
                )
                rows.append((f"peak RSS MB, {stream} {records:,} ({settings})", run.peak_rss_mb, TARGET_MB, "<="))
    return rows
