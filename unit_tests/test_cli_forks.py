"""The tests' CLI runs forked from a warm process (testkit.cli_forks) answer as a new interpreter does."""

import os
import re
import subprocess
import sys

import pytest

from testkit.cli_forks import CliForkServer


@pytest.fixture
def forks():
    server = CliForkServer()
    yield server
    server.close()


def _fresh(argv: list[str]) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "source_events", *argv], capture_output=True, text=True, timeout=120, check=False
    )
    return completed.returncode, _untimed(completed.stdout), _untimed(completed.stderr)


def _forked(forks: CliForkServer, argv: list[str], tmp_path) -> tuple[int, str, str]:
    stdout, stderr = tmp_path / "out", tmp_path / "err"
    returncode = forks.run(argv, stdout, stderr, timeout=120)
    return returncode, _untimed(stdout.read_text()), _untimed(stderr.read_text())


def _untimed(output: str) -> str:
    """The output without its messages' times, which differ from one run to the next."""
    return re.sub(r'"emitted_at":\s*[0-9.]+', '"emitted_at":0', output)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--version"], id="version"),
        pytest.param(["chek"], id="unknown_command"),  # exit code 2 and the usage on stderr
        pytest.param(["spec"], id="spec"),
        pytest.param(["discover", "--config", "/nonexistent/config.json"], id="missing_config"),  # through the CDK
    ],
)
def test_a_forked_run_answers_as_a_new_interpreter_does(forks, tmp_path, argv):
    assert _forked(forks, argv, tmp_path) == _fresh(argv)


def test_a_forked_run_past_its_timeout_is_killed_and_the_next_run_is_answered(forks, tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # nobody writes it: opening it to read blocks the run for good
    with pytest.raises(subprocess.TimeoutExpired):
        forks.run(["check", "--config", str(fifo)], tmp_path / "out", tmp_path / "err", timeout=0.2)
    assert _forked(forks, ["--version"], tmp_path) == _fresh(["--version"])
