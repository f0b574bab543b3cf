"""PyAirbyte round trip: the connector read through PyAirbyte into its DuckDB cache, then an incremental
read that fetches only what is new. Runs in PyAirbyte's own virtualenv (see scripts/pyairbyte.sh); the
connector runs as a local executable from the project's .venv, and the emulator in a process of its own.

    .venv-pyairbyte/bin/python scripts/pyairbyte_roundtrip.py
"""

import os

# PyAirbyte reads these when it is imported: no registry download, no telemetry
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import urllib.request  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import airbyte as ab  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR = ROOT / ".venv" / "bin" / "source-events"
KEYS = {"flameup_events": "id", "bem_events": "eventID"}


def main() -> int:
    emulator = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "source_events.emulator",
            "--port",
            "0",
            "--flameup-events",
            "600",
            "--bem-events",
            "400",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # the emulator prints "  Flameup base URL  http://127.0.0.1:PORT/api/v1" among its first lines
        line = emulator.stdout.readline()
        while line and not line.strip().startswith("Flameup base URL"):
            line = emulator.stdout.readline()
        if not line:
            print("the emulator exited before printing its Flameup base URL", file=sys.stderr)
            return 1
        return _round_trip(line.split()[-1].rsplit("/api/v1", 1)[0])
    finally:
        emulator.terminate()


def _round_trip(base: str) -> int:
    config = {
        "flameup": {
            "api_key": "ws_test_emulator_key",
            "workspace_id": "ws_emulator",
            "start_date": (datetime.now(timezone.utc) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": f"{base}/api/v1",
        },
        "bem": {"api_key": "bem_emulator_key", "base_url": f"{base}/v1-alpha"},
    }
    source = ab.get_source("source-events", local_executable=str(CONNECTOR), config=config, streams="*")
    source.check()
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        cache = ab.new_local_cache("source_events_round_trip", cache_dir=folder)

        first = source.read(cache=cache)
        truth = _get(f"{base}/_emulator/truth")
        for stream, key in KEYS.items():
            cached = set(cache[stream].to_pandas()[key.lower()])  # PyAirbyte lower-cases column names
            print(f"full read: {stream}: {len(cached)} in DuckDB, {len(truth[stream])} in the source")
            if cached != set(truth[stream]):
                failures.append(f"{stream}: the cache differs from the source after the full read")

        added = _post(f"{base}/_emulator/append", {"flameup": 30, "bem": 12, "seed": 7})
        second = source.read(cache=cache)
        truth = _get(f"{base}/_emulator/truth")
        for stream, key in KEYS.items():
            cached = set(cache[stream].to_pandas()[key.lower()])  # PyAirbyte lower-cases column names
            if cached != set(truth[stream]):
                failures.append(f"{stream}: the cache differs from the source after the incremental read")
        new = sum(len(v) for v in added.values())
        print(
            f"incremental read: {second.processed_records} records for {new} new events (full read: {first.processed_records})"
        )
        if not new <= second.processed_records < first.processed_records // 4:
            failures.append("the incremental read did not fetch only the new events (and the lookback overlap)")
    print("PyAirbyte round trip: " + ("FAILED: " + "; ".join(failures) if failures else "OK"))
    return 1 if failures else 0


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


if __name__ == "__main__":
    sys.exit(main())
