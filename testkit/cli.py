"""Running the real `source-events` CLI in a process of its own, as Airbyte does, and reading what it prints."""

import atexit
import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from testkit.cli_forks import CliForkServer

# the CLI's runs, forked from a process that has imported the CDK once (testkit.cli_forks)
_FORKS = CliForkServer()
atexit.register(_FORKS.close)
_RUNS = itertools.count()
TIMEOUT_SECONDS = 180


class CliRun:
    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.messages = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]

    def of_type(self, message_type: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == message_type]

    @property
    def connection_status(self) -> dict[str, Any]:
        (status,) = [m["connectionStatus"] for m in self.of_type("CONNECTION_STATUS")]
        return status

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of_type("TRACE") if m["trace"]["type"] == "ERROR"]


def run_cli(
    tmp_path: Path,
    command: str,
    config: Any = None,
    catalog: Any = None,
    state: Any = None,
    *extra: str,
    through_pipes: bool = False,
) -> CliRun:
    """`source-events COMMAND *extra` with these inputs, each written to a file (`through_pipes`: each passed as a
    pipe that reads once, `/dev/fd/N`, as `--config <(…)` does, from a new interpreter)."""
    args = [sys.executable, "-m", "source_events", command, *extra]
    pipes: list[int] = []
    for name, value in (("config", config), ("catalog", catalog), ("state", state)):
        if value is not None:
            text = value if isinstance(value, str) else json.dumps(value)
            if through_pipes:
                readable, writable = os.pipe()
                pipes.append(readable)
                threading.Thread(target=_write_and_close, args=(writable, text.encode()), daemon=True).start()
                args += [f"--{name}", f"/dev/fd/{readable}"]
            else:
                path = tmp_path / f"{name}.json"
                path.write_text(text)
                args += [f"--{name}", str(path)]
    if not through_pipes:
        return _forked(args, tmp_path)
    try:
        return CliRun(
            subprocess.run(
                args, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False, pass_fds=tuple(pipes)
            )
        )
    finally:
        for readable in pipes:
            os.close(readable)


def _forked(args: list[str], tmp_path: Path) -> CliRun:
    run = next(_RUNS)
    stdout, stderr = tmp_path / f"cli-{run}.stdout", tmp_path / f"cli-{run}.stderr"
    returncode = _FORKS.run(args[3:], stdout, stderr, TIMEOUT_SECONDS)
    return CliRun(subprocess.CompletedProcess(args, returncode, stdout.read_text(), stderr.read_text()))


def _write_and_close(writable: int, data: bytes) -> None:
    with os.fdopen(writable, "wb") as pipe:
        pipe.write(data)
