"""The README's "Running the connector yourself", run as written: the emulator in one terminal, the commands
in another (only `.venv/bin/` is replaced by this interpreter, the folder is a scratch copy)."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Running the connector yourself") : readme.index("### Docker image")]
    return re.findall(r"```bash\n(.*?)```", section, re.DOTALL)


def _here(commands: str) -> str:
    return commands.replace(".venv/bin/python ", f"{sys.executable} ").replace(
        ".venv/bin/source-events ", f"{sys.executable} -m source_events "
    )


def test_the_readmes_commands_run_as_written(tmp_path):
    emulator, commands = _blocks()
    server = subprocess.Popen(shlex.split(_here(emulator)), cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        started = [server.stdout.readline()]
        while started[-1] and started[-1] != "Serving until Ctrl-C.\n":
            started.append(server.stdout.readline())
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _here(commands)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert started[-1] == "Serving until Ctrl-C.\n", started
    assert result.returncode == 0, result.stderr[-3000:]
    last_read = [json.loads(line) for line in (tmp_path / "read.jsonl").read_text().splitlines()]
    assert not [m for m in last_read if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    catalog = json.loads((tmp_path / "catalog.json").read_text())  # written by `source-events catalog`
    assert [s["stream"]["name"] for s in catalog["streams"]] == ["flameup_events", "bem_events"]
    states = json.loads((tmp_path / "state.json").read_text())
    assert sorted(s["stream"]["stream_descriptor"]["name"] for s in states) == ["bem_events", "flameup_events"]
    assert result.stderr.count("source-events state: the state of") == 2
