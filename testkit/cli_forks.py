"""The CLI run as `python -m source_events` runs it, in a process forked from one that has imported the CDK already.

Each run of the CLI in the tests (testkit.cli.run_cli) used to be a new interpreter importing airbyte_cdk: about a
second of CPU, a fifth of the whole suite's over some 150 runs. A fork server, one per test process, imports the
CDK and the connector once and forks a child for each run. The child takes the run's argv, environment, working
directory and standard streams (stdin from /dev/null, stdout and stderr to files), runs the `source_events` module
as `python -m` does, and ends as an interpreter ends: its exit code, a traceback on stderr for an exception nobody
caught, threads joined and atexit handlers run. What a child cannot show is what a process imports, or which
interpreter options it started with: the tests of those start a new interpreter (unit_tests/test_quick_check.py),
as run_cli does for inputs passed as pipes.

    python -m testkit.cli_forks    # the server: a request a line on stdin (JSON), "<pid>\\n<exit code>\\n" back
"""

import json
import os
import runpy
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
# how long the server may take to start a child and name it (its own start, the CDK's import, comes first)
_START_SECONDS = 120


class CliForkServer:
    """The client: one server process, started on the first run; a run at a time."""

    def __init__(self) -> None:
        self._server: subprocess.Popen | None = None
        self._pending = b""
        self._lock = threading.Lock()

    def run(self, argv: list[str], stdout: Path, stderr: Path, timeout: float) -> int:
        """`python -m source_events *argv`, in this process's working directory and environment; its exit code,
        negative for a signal (as subprocess says it). subprocess.TimeoutExpired after `timeout` seconds (the
        child killed)."""
        request = {
            "argv": argv,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        with self._lock:
            server = self._started()
            try:
                server.stdin.write(json.dumps(request).encode() + b"\n")
                server.stdin.flush()
                pid = int(self._line(_START_SECONDS))
            except BaseException:
                self._stop()
                raise
            try:
                return int(self._line(timeout))
            except BaseException as error:  # the run's timeout, or the test's (pytest-timeout), or Ctrl-C
                try:
                    os.kill(pid, signal.SIGKILL)
                    self._line(_START_SECONDS)  # the server's answer for the killed child, to stay in step
                except (OSError, TimeoutError, EOFError):
                    self._stop()
                if isinstance(error, TimeoutError):
                    raise subprocess.TimeoutExpired([sys.executable, "-m", "source_events", *argv], timeout) from None
                raise

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _started(self) -> subprocess.Popen:
        if self._server is None or self._server.poll() is not None:
            self._pending = b""
            self._server = subprocess.Popen(
                [sys.executable, "-m", "testkit.cli_forks"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=_ROOT
            )
        return self._server

    def _line(self, timeout: float) -> bytes:
        """The server's next line, within `timeout` seconds (TimeoutError), or EOFError if it has ended."""
        stream = self._server.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([stream], [], [], timeout)
            if not ready:
                raise TimeoutError
            chunk = os.read(stream, 4096)
            if not chunk:
                raise EOFError("the CLI's fork server ended")
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line

    def _stop(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server.wait()
            self._server = None


def _serve() -> dict:
    """Forks a child for each request on stdin, answers its pid and then its exit code; returns only in a child,
    with the child's request. Ends (exit code 0) when stdin does."""
    # what every child would import first: the CDK (the cdk_run module's imports) and the connector
    import source_events.cdk_run  # noqa: F401
    import source_events.quick_check  # noqa: F401
    import source_events.source  # noqa: F401

    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(0, 65536)  # not sys.stdin: its buffer would pass on to the children
            if not chunk:
                raise SystemExit(0)
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return request
        os.write(1, b"%d\n" % pid)
        _, status = os.waitpid(pid, 0)
        os.write(1, b"%d\n" % os.waitstatus_to_exitcode(status))


def _become(request: dict) -> None:
    """Make this child the process `python -m source_events` would have started, and run it."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    streams = (
        (0, os.devnull, os.O_RDONLY),
        (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    )
    for fd, path, flags in streams:  # the server's pipes are replaced: nothing of them stays open here
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["-m", *request["argv"]]  # run_module names the module's file in argv[0], as `-m` does
    sys.path[0] = os.getcwd()  # `-m` puts the working directory first
    runpy.run_module("source_events", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _become(_serve())
