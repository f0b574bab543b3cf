"""How long the user waits for each command on the Python that runs this benchmark (the image's is 3.13: run it
as `.venv-py313/bin/python bench/bench.py --startup`): `check` from launch to exit (what the Airbyte form waits
for) and before its first request, against the emulator with no latency and with 200 ms a request; a `check` that
fails (a wrong bem key: answered by the CDK's check, after the fast path's request, source_events.quick_check);
`read` before its first request; the CDK's import alone; `spec` and `discover` from launch to exit. Medians of
`runs`. `lean` (the smoke run): `check` with no latency only."""

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import bem_api, connector_args, flameup_api, median

from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer

CHECK_TARGET_SECONDS = 1.5


def startup(runs: int, lean: bool = False) -> list[tuple[str, float, float, str]]:
    flameup, start = flameup_api(100)
    bem = bem_api(100)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for latency_ms in (0,) if lean else (0, 200):
            with EmulatorServer(flameup, bem, latency_seconds=latency_ms / 1000) as server:
                read_args = connector_args(Path(folder), server, list(PRIMARY_KEYS), start=start)
                check_args = [*read_args[:3], "check", *read_args[4:6]]
                before = server.request_count
                timings = [_timed(check_args, server) for _ in range(runs)]
                requests = (server.request_count - before) / runs
                figures[f"check {latency_ms} ms"] = median([whole for _, whole in timings])
                if latency_ms == 0:
                    figures["check, first request"] = median([first for first, _ in timings])
                    config = read_args[5]
                    if not lean:
                        figures["read, first request"] = median([_timed(read_args, server)[0] for _ in range(runs)])
                        failing = [*check_args[:-1], _with_wrong_bem_key(Path(folder), config)]
                        figures["check, failing"] = median([_whole(failing) for _ in range(runs)])
        if not lean:
            figures["CDK import"] = median([_whole([sys.executable, "-c", "import airbyte_cdk"]) for _ in range(runs)])
            figures["spec"] = median([_whole([sys.executable, "-m", "source_events", "spec"]) for _ in range(runs)])
            discover = [sys.executable, "-m", "source_events", "discover", "--config", config]
            figures["discover"] = median([_whole(discover) for _ in range(runs)])
    line = (
        f"start-up on Python {platform.python_version()} (median of {runs}): check {figures['check 0 ms']:.2f} s "
        f"from launch to exit, no latency ({requests:.0f} requests, both APIs configured), "
        f"{figures['check, first request']:.2f} s of it before the first request"
    )
    if not lean:
        line += (
            f"; check at 200 ms a request {figures['check 200 ms']:.2f} s; check that fails (a wrong bem key) "
            f"{figures['check, failing']:.2f} s; read before its first request "
            f"{figures['read, first request']:.2f} s; the CDK's import alone {figures['CDK import']:.2f} s; spec "
            f"{figures['spec']:.2f} s, discover {figures['discover']:.2f} s"
        )
    print(line, flush=True)
    return [
        (
            f"check, launch to exit, Python {platform.python_version()}",
            figures["check 0 ms"],
            CHECK_TARGET_SECONDS,
            "<=",
        )
    ]


def _with_wrong_bem_key(folder: Path, config: str) -> str:
    """A copy of the config whose bem key the emulator refuses: the fast path falls back to the CDK's check."""
    wrong = json.loads(Path(config).read_text())
    wrong["bem"]["api_key"] += "_wrong"
    path = folder / "config_wrong_key.json"
    path.write_text(json.dumps(wrong))
    return str(path)


def _whole(args: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.monotonic() - began


def _timed(args: list[str], server: EmulatorServer) -> tuple[float, float]:
    """Seconds from launching `args` to its first request at the emulator (NaN if it sent none), and to its exit."""
    seen = len(server.arrivals)
    launched, began = time.time(), time.monotonic()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    whole = time.monotonic() - began
    # the emulator stamps each arrival with its clock (unix seconds)
    first = server.arrivals[seen][2] - launched if len(server.arrivals) > seen else float("nan")
    return first, whole
