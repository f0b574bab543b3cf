"""`python -m source_events.emulator` as a new user runs it: described options, the credentials it accepts,
a config written for it, any free port, and one line when the port is taken."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from source_events.emulator.__main__ import build_parser
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, STANDARD_PORT, WORKSPACE_ID
from testkit.cli import run_cli

EMULATOR = [sys.executable, "-m", "source_events.emulator"]


@contextmanager
def _emulator(*args: str) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """The emulator in a subprocess, and the lines it printed on start (it prints them in one write)."""
    process = subprocess.Popen([*EMULATOR, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline().rstrip("\n")]  # blocks until the emulator listens, or exits
        while lines[-1] and lines[-1] != "Serving until Ctrl-C.":
            lines.append(process.stdout.readline().rstrip("\n"))
        yield process, lines
    finally:
        process.terminate()
        process.wait(timeout=30)


def _setting(lines: list[str], label: str) -> str:
    [line] = [line for line in lines if line.startswith(f"  {label} ")]
    return line[len(label) + 2 :].strip()


def test_every_option_is_described():
    actions = [a for a in build_parser()._actions if a.option_strings and a.dest != "help"]

    assert {a.dest for a in actions} == {
        "port",
        "write_config",
        "flameup_events",
        "bem_events",
        "seed",
        "add_events_every",
    }
    assert all(a.help and len(a.help) > 20 for a in actions), [a.dest for a in actions if not a.help]
    result = subprocess.run([*EMULATOR, "--help"], capture_output=True, text=True, timeout=60, check=True)
    text = " ".join(result.stdout.split())  # argparse wraps to the terminal's width
    assert "--write-config PATH" in text and "0 picks a free port" in text


def test_on_a_free_port_it_prints_the_port_bound_its_credentials_and_a_config_that_works(tmp_path):
    config_path = tmp_path / "emulator.json"

    with _emulator(
        "--port", "0", "--flameup-events", "50", "--bem-events", "50", "--write-config", str(config_path)
    ) as (
        _,
        lines,
    ):
        port = int(lines[0].split("127.0.0.1:")[1].split()[0])
        config = json.loads(config_path.read_text())
        check = run_cli(tmp_path, "check", config)

    assert port not in (0, STANDARD_PORT)
    assert _setting(lines, "Flameup base URL") == f"http://127.0.0.1:{port}/api/v1"
    assert _setting(lines, "bem base URL") == f"http://127.0.0.1:{port}/v1-alpha"
    assert _setting(lines, "Flameup API key") == FLAMEUP_API_KEY
    assert _setting(lines, "workspace ID") == WORKSPACE_ID
    assert _setting(lines, "bem API key") == BEM_API_KEY
    assert _setting(lines, "connector config").startswith(str(config_path))
    assert config["flameup"]["base_url"] == f"http://127.0.0.1:{port}/api/v1"
    assert config["bem"]["base_url"] == f"http://127.0.0.1:{port}/v1-alpha"
    assert check.connection_status == {"status": "SUCCEEDED"}


def test_a_port_in_use_is_one_line_saying_which_and_how_to_choose_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        result = subprocess.run(
            [*EMULATOR, "--port", str(port), "--write-config", str(tmp_path / "c.json")],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"port {port} is already in use" in result.stderr and "--port 0" in result.stderr
    assert not Path(tmp_path / "c.json").exists()


def test_a_config_path_that_cannot_be_written_is_one_line(tmp_path):
    result = subprocess.run(
        [*EMULATOR, "--port", "0", "--write-config", str(tmp_path / "missing" / "c.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1 and result.stdout == ""
    assert (
        result.stderr
        == f"emulator: cannot write the config to {tmp_path / 'missing' / 'c.json'}: No such file or directory\n"
    )


def _truth(base_url: str) -> dict[str, list[str]]:
    with urllib.request.urlopen(f"{base_url}/_emulator/truth", timeout=10) as answer:
        return json.loads(answer.read())


def test_events_added_while_it_runs_are_served_and_each_addition_is_one_stderr_line():
    with _emulator("--port", "0", "--flameup-events", "10", "--bem-events", "10", "--add-events-every", "0.05") as (
        process,
        lines,
    ):
        base_url = _setting(lines, "Flameup base URL").removesuffix("/api/v1")
        deadline = time.monotonic() + 30
        truth = _truth(base_url)
        while min(len(keys) for keys in truth.values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
            truth = _truth(base_url)
        process.terminate()
        rest_of_stdout, stderr = process.communicate(timeout=30)

    assert _setting(lines, "new events") == "5 Flameup and 5 bem every 0.05 s"
    assert len(truth["flameup_events"]) >= 20 and len(truth["bem_events"]) >= 20
    assert rest_of_stdout == ""  # stdout is the start-up lines only
    added = [line for line in stderr.splitlines() if line.startswith("emulator: ")]
    assert len(added) >= 2 and all(" added 5 Flameup and 5 bem events (" in line for line in added), stderr
    assert "Traceback" not in stderr


def test_an_interval_that_is_not_positive_is_refused_with_the_option_named():
    result = subprocess.run([*EMULATOR, "--add-events-every", "0"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 2 and result.stdout == ""
    assert "argument --add-events-every: must be more than 0 seconds, not 0" in result.stderr
