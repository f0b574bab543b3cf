"""`source-events demo`: a real sync of both streams against the local emulator, end to end.

Starts the emulator with a realistic dataset, then runs the connector's own CLI (`check`, `discover`,
`read`) in a subprocess over HTTP: a full sync, then new and late events arrive, then an incremental sync
from the saved state. Records, catalog and state are written to the output folder; the summary compares
what the destination would hold with the emulator's ground truth. Exit 1 if anything is missing.
"""

import argparse
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from source_events.emulator import BemApi, FlameupApi
from source_events.emulator.datasets import (
    bem_event_at,
    bem_events,
    default_window,
    flameup_events,
    format_flameup_time,
)
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer
from source_events.state_file import latest_states

WORKSPACE = "ws_demo"
FLAMEUP_KEY = "ws_test_demo_key"
BEM_KEY = "bem_demo_key"
STREAMS = PRIMARY_KEYS


@dataclass
class SyncResult:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {s: [] for s in STREAMS})
    state: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0  # the requests the emulator answered during the sync


def _count(text: str) -> int:
    """A number of events: 0 or more."""
    count = int(text)
    if count < 0:
        raise argparse.ArgumentTypeError(f"{count} is not a number of events (0 or more)")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="source-events demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="output", help="folder for records, catalog and state (default: ./output)")
    parser.add_argument(
        "--flameup-events",
        type=_count,
        default=3000,
        help="Flameup events the emulator holds at the start (default: 3000)",
    )
    parser.add_argument(
        "--bem-events", type=_count, default=2000, help="bem events the emulator holds at the start (default: 2000)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the generated events: the same seed, the same data (default: 1)"
    )
    args = parser.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    start, end = default_window()
    flameup = FlameupApi(
        WORKSPACE, FLAMEUP_KEY, flameup_events(args.flameup_events, start, end, WORKSPACE, seed=args.seed)
    )
    bem = BemApi(BEM_KEY, bem_events(args.bem_events, start, end, seed=args.seed))
    with EmulatorServer(flameup=flameup, bem=bem) as server:
        config = {
            "flameup": {
                "api_key": FLAMEUP_KEY,
                "workspace_id": WORKSPACE,
                "start_date": format_flameup_time(start - timedelta(days=1), 0),
                "base_url": server.flameup_base_url,
            },
            "bem": {"api_key": BEM_KEY, "base_url": server.bem_base_url},
        }
        config_path = _write(out / "config.json", config)
        _say(f"emulator on {server.base_url}: {len(flameup.events)} Flameup and {len(bem.events)} bem events")

        status = _protocol(["check", "--config", str(config_path)])
        connection = [m["connectionStatus"] for m in status if m["type"] == "CONNECTION_STATUS"]
        _say(f"check: {connection[0]['status'] if connection else 'no answer'}")
        if not connection or connection[0]["status"] != "SUCCEEDED":
            return 1

        catalog = [
            m["catalog"] for m in _protocol(["discover", "--config", str(config_path)]) if m["type"] == "CATALOG"
        ][0]
        _say("discover: " + ", ".join(s["name"] for s in catalog["streams"]))
        configured = {
            "streams": [
                {
                    "stream": s,
                    "sync_mode": "incremental",
                    "destination_sync_mode": "append_dedup",
                    "primary_key": s["source_defined_primary_key"],
                }
                for s in catalog["streams"]
            ]
        }
        catalog_path = _write(out / "configured_catalog.json", configured)

        truth_at_start = server.ground_truth()
        full = _read(config_path, catalog_path, None, server, "full sync", sum(len(v) for v in truth_at_start.values()))
        _say(_sync_line("full sync", full))
        state_path = _write(out / "state_after_full_sync.json", full.state)

        added = _new_and_late_events(flameup, bem, full)
        _say(
            f"meanwhile: {sum(added.values())} new and late events arrive ({added['flameup_events']} Flameup, some "
            f"with late timestamps; {added['bem_events']} bem, some in the second of the last ID read)"
        )
        truth_at_end = server.ground_truth()
        incremental = _read(config_path, catalog_path, state_path, server, "incremental sync", sum(added.values()))
        _say(_sync_line("incremental sync", incremental))
        _write(out / "state.json", incremental.state)

    for stream in STREAMS:
        with (out / f"{stream}.jsonl").open("w") as handle:
            for record in full.records[stream] + incremental.records[stream]:
                handle.write(json.dumps(record) + "\n")
    return _summary(full, incremental, truth_at_start, truth_at_end, server.request_count, out)


def _protocol(args: list[str]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, "-m", "source_events", *args], capture_output=True, text=True, check=False
    )
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def _read(
    config: Path, catalog: Path, state: Path | None, server: EmulatorServer, name: str, expected: int
) -> SyncResult:
    args = ["read", "--config", str(config), "--catalog", str(catalog)] + (["--state", str(state)] if state else [])
    result = SyncResult()
    protocol_lines: list[str] = []  # STATE and TRACE: the next --state and the errors
    progress = _ProgressBar(name, expected, server)
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "source_events", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    for line in process.stdout:
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message["type"] == "RECORD":
            result.records[message["record"]["stream"]].append(message["record"]["data"])
            progress.update(result)
        elif message["type"] in ("STATE", "TRACE"):
            protocol_lines.append(line)
            estimate = (message.get("trace") or {}).get("estimate")
            if estimate:  # the connector's own estimate of a stream's rows, as the Airbyte UI draws it
                progress.estimated(estimate["name"], estimate.get("row_estimate"))
    process.wait()
    result.requests = server.request_count - progress.requests_before
    latest, result.errors = latest_states(protocol_lines)
    result.state = list(latest.values())
    result.seconds = time.monotonic() - began
    progress.finish(result)
    return result


class _ProgressBar:
    """Records, pages and records/s of a running sync on stderr: redrawn in place on a terminal,
    a single closing line otherwise. The bar is drawn against the connector's own ESTIMATE of each stream's
    rows once every stream sent one (what the Airbyte UI shows), else against the emulator's count."""

    WIDTH = 28

    def __init__(self, name: str, expected: int, server: EmulatorServer) -> None:
        self._name, self._expected, self._server = name, max(expected, 1), server
        self.requests_before = server.request_count
        self._began = time.monotonic()
        self._last_draw = 0.0
        self._live = sys.stderr.isatty()
        self._estimates: dict[str, int] = {}

    def estimated(self, stream: str, rows: int | None) -> None:
        if isinstance(rows, int):
            self._estimates[stream] = rows

    def update(self, result: SyncResult) -> None:
        now = time.monotonic()
        if self._live and now - self._last_draw >= 0.1:
            self._last_draw = now
            sys.stderr.write("\r" + self._line(result))
            sys.stderr.flush()

    def finish(self, result: SyncResult) -> None:
        sys.stderr.write(("\r" if self._live else "") + self._line(result) + "\n")
        sys.stderr.flush()

    def _line(self, result: SyncResult) -> str:
        records = sum(len(r) for r in result.records.values())
        # the connector's estimates once every stream sent one (an incremental bem sync does not guess)
        estimated = set(self._estimates) >= set(STREAMS)
        expected = sum(self._estimates.values()) if estimated else self._expected
        done = min(records / max(expected, 1), 1.0)
        bar = "█" * int(done * self.WIDTH) + "·" * (self.WIDTH - int(done * self.WIDTH))
        elapsed = max(time.monotonic() - self._began, 1e-6)
        pages = self._server.request_count - self.requests_before
        of_about = f" of about {expected:,}" if estimated else ""
        return (
            f"{self._name:<17}{bar} {records:>6,}{of_about} records  {pages:>4} pages  "
            f"{records / elapsed:>7,.0f} records/s"
        )


def _new_and_late_events(flameup: FlameupApi, bem: BemApi, full: SyncResult) -> dict[str, int]:
    rng = random.Random(99)
    now = datetime.now(timezone.utc)
    added = flameup_events(40, now - timedelta(minutes=8), now - timedelta(seconds=1), WORKSPACE, seed=7)
    flameup.events.extend(added)  # includes late ones: timestamps up to 8 minutes back, inside the lookback
    # (none at the start: the second now)
    last_second = max((int(e["_created"][0]) for e in bem.events), default=int(now.timestamp()))
    created = len(bem.events)
    bem_added = [bem_event_at(last_second, rng, created + i) for i in range(5)]  # same second as the last read
    bem_added += [bem_event_at(int(now.timestamp()), rng, created + 5 + i) for i in range(20)]
    bem.events.extend(bem_added)
    return {"flameup_events": len(added), "bem_events": len(bem_added)}


def _summary(full: SyncResult, incremental: SyncResult, at_start, at_end, requests: int, out: Path) -> int:
    """Records per stream per sync against the emulator's events. `missing` and `extra` compare distinct primary
    keys, as a deduplicating destination (`append_dedup`) holds them: the incremental sync re-reads a bounded
    overlap on purpose (`again`), and those rows fold into the ones the full sync wrote."""
    rows = []
    failed = bool(full.errors or incremental.errors)
    for stream, key in STREAMS.items():
        full_ids = {r[key] for r in full.records[stream]}
        incremental_ids = [r[key] for r in incremental.records[stream]]
        again = sum(1 for event_id in incremental_ids if event_id in full_ids)
        all_ids = full_ids | set(incremental_ids)
        missing = len(at_end[stream] - all_ids)
        extra = len(all_ids - at_end[stream])
        failed |= bool(missing or extra or (at_start[stream] - full_ids))
        rows.append(
            (stream, len(full.records[stream]), len(incremental_ids), again, len(at_end[stream]), missing, extra)
        )
    print()
    print(f"{'stream':<16}{'full':>8}{'incr':>8}{'again':>8}{'source':>8}{'missing':>9}{'extra':>7}")
    for row in rows:
        print(f"{row[0]:<16}{row[1]:>8}{row[2]:>8}{row[3]:>8}{row[4]:>8}{row[5]:>9}{row[6]:>7}")
    print(
        "  incr: records of the incremental sync; `again`: those the full sync read already, its lookback's overlap\n"
        "  (Flameup: events of the 10 minutes before its state, `flameup.lookback_window_minutes`, 0 when the full\n"
        "  sync read none then; bem: from a real ID at least `bem.lookback_window_seconds` behind the newest ID\n"
        "  read, more when events are sparse). A deduplicating destination keeps one row per key. missing, extra:\n"
        "  distinct keys of both syncs against the emulator's events at the end."
    )
    before = requests - full.requests - incremental.requests
    print(
        f"\nrequests: {requests} ({before} by check, {full.requests} by the full sync, {incremental.requests} by the "
        f"incremental sync)   full sync: {full.seconds:.1f} s   incremental: {incremental.seconds:.1f} s"
    )
    for state in incremental.state:
        print(
            f"state {state['stream']['stream_descriptor']['name']}: {json.dumps(_short(state['stream']['stream_state']))}"
        )
    for error in full.errors + incremental.errors:
        print(f"error: {error}")
    verdict = "FAILED: records missing" if failed else "OK: every event at the source read, none that is not"
    print(f"\noutput: {out.resolve()}  ({verdict})")
    return 1 if failed else 0


def _short(state: dict[str, Any]) -> dict[str, Any]:
    return {k: (f"[{len(v)} IDs]" if isinstance(v, list) else v) for k, v in state.items()}


def _sync_line(name: str, result: SyncResult) -> str:
    counts = ", ".join(f"{len(records)} {stream}" for stream, records in result.records.items())
    return f"{name}: {counts} in {result.seconds:.1f} s" + (f" ({len(result.errors)} errors)" if result.errors else "")


def _say(text: str) -> None:
    print(text, flush=True)


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, indent=2))
    return path
