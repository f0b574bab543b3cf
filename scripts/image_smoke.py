#!/usr/bin/env python3
"""Smoke-test a built connector image against the emulator, the way Airbyte runs it: config, catalog and
state mounted read-only under /config, the API reached over the network (here the host's loopback).

    python scripts/image_smoke.py airbyte/source-events:dev
"""

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from source_events.emulator.datasets import flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server

ROOT = Path(__file__).resolve().parent.parent


def main(image: str) -> int:
    failures: list[str] = []

    def expect(condition: bool, what: str) -> None:
        print(f"{'ok  ' if condition else 'FAIL'} {what}", flush=True)
        if not condition:
            failures.append(what)

    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
    labels = json.loads(_podman("image", "inspect", image, "--format", "{{json .Labels}}"))
    expect(labels.get("io.airbyte.name") == metadata["dockerRepository"], "label io.airbyte.name matches metadata.yaml")
    expect(
        labels.get("io.airbyte.version") == metadata["dockerImageTag"], "label io.airbyte.version matches metadata.yaml"
    )
    expect(
        _podman("run", "--rm", "--entrypoint", "id", image, "-u").strip() != "0",
        "the connector runs as a non-root user",
    )
    python = _podman("run", "--rm", "--entrypoint", "python", image, "--version").strip()
    expect(
        python.startswith(f"Python {os.environ.get('BASE_PYTHON', '')}."),
        f"the image runs the base image's Python ({python}; the base's is {os.environ.get('BASE_PYTHON')})",
    )

    spec = _messages(image, ["spec"])
    expect([m["type"] for m in spec if m["type"] == "SPEC"] == ["SPEC"], "spec prints one SPEC message")

    with sample_server(flameup_count=400, bem_count=300) as server, tempfile.TemporaryDirectory() as folder:
        mounted = Path(folder)
        mounted.chmod(0o755)
        config = {
            "flameup": {
                "api_key": FLAMEUP_API_KEY,
                "workspace_id": WORKSPACE_ID,
                "start_date": (datetime.now(timezone.utc) - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "base_url": server.flameup_base_url,
            },
            "bem": {"api_key": BEM_API_KEY, "base_url": server.bem_base_url},
        }
        _write(mounted / "source_config.json", config)
        _write(
            mounted / "source_catalog.json",
            json.loads((ROOT / "integration_tests" / "configured_catalog.json").read_text()),
        )

        status = [
            m["connectionStatus"]["status"]
            for m in _messages(image, ["check", "--config", "/config/source_config.json"], mounted)
            if m["type"] == "CONNECTION_STATUS"
        ]
        expect(status == ["SUCCEEDED"], "check succeeds against the emulator")

        catalog = [
            m["catalog"]
            for m in _messages(image, ["discover", "--config", "/config/source_config.json"], mounted)
            if m["type"] == "CATALOG"
        ]
        expect(
            catalog and sorted(s["name"] for s in catalog[0]["streams"]) == ["bem_events", "flameup_events"],
            "discover lists both streams",
        )

        read = ["read", "--config", "/config/source_config.json", "--catalog", "/config/source_catalog.json"]
        full = _messages(image, read, mounted)
        truth = server.ground_truth()
        for stream, key in (("flameup_events", "id"), ("bem_events", "eventID")):
            keys = {m["record"]["data"][key] for m in full if m["type"] == "RECORD" and m["record"]["stream"] == stream}
            expect(keys == truth[stream], f"full read returns all {len(truth[stream])} {stream}")
        states = {m["state"]["stream"]["stream_descriptor"]["name"]: m["state"] for m in full if m["type"] == "STATE"}
        expect(set(states) == {"flameup_events", "bem_events"}, "full read ends with a state per stream")

        now = datetime.now(timezone.utc)
        new = flameup_events(25, now - timedelta(minutes=5), now - timedelta(seconds=1), WORKSPACE_ID, seed=42)
        server.flameup.events.extend(new)
        _write(
            mounted / "source_state.json",
            [{k: v for k, v in s.items() if k != "sourceStats"} | {"type": "STREAM"} for s in states.values()],
        )
        incremental = _messages(image, [*read, "--state", "/config/source_state.json"], mounted)
        got = {
            m["record"]["data"]["id"]
            for m in incremental
            if m["type"] == "RECORD" and m["record"]["stream"] == "flameup_events"
        }
        expect(
            {e["id"] for e in new} <= got and len(got) < 100,
            f"incremental read returns the {len(new)} new events (+ the lookback overlap: {len(got) - len(new)})",
        )
        bem_again = {
            m["record"]["data"]["eventID"]
            for m in incremental
            if m["type"] == "RECORD" and m["record"]["stream"] == "bem_events"
        }
        # nothing was added to bem: it re-reads only its lookback (bem.lookback_window_seconds) before the newest
        expect(
            bem_again <= truth["bem_events"] and len(bem_again) < 100,
            f"incremental read of bem returns no new event (the lookback overlap: {len(bem_again)})",
        )

    print(f"image smoke test: {'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}")
    return 1 if failures else 0


def _podman(*args: str) -> str:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=True, timeout=300).stdout


def _messages(image: str, args: list[str], mounted: Path | None = None) -> list[dict]:
    volume = ["-v", f"{mounted}:/config:ro"] if mounted else []
    stdout = _podman("run", "--rm", "--network=host", *volume, image, *args)
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _write(path: Path, value) -> None:
    path.write_text(json.dumps(value))
    path.chmod(0o644)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
