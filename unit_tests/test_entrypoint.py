"""The console entrypoint: the usage message, each command's --help and its usage errors are answered before the
CDK is imported (a second); every protocol command, whatever its options, runs through the CDK's entrypoint."""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint

from source_events.entrypoint import PROTOCOL_COMMANDS, protocol_parser

ROOT = Path(__file__).resolve().parent.parent
# what the CDK's entrypoint declares and a source built from Python code never reads
MANIFEST_ONLY_OPTIONS = {"manifest_path", "components_path"}


def _main_in_a_fresh_process(args: list[str]) -> tuple[int, list[str], str]:
    """source_events.entrypoint.main(args) in a new interpreter: its exit code, the airbyte_cdk modules it loaded,
    and what it printed."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from source_events.entrypoint import main\n"
        "out = io.StringIO()\n"
        "code = 0\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit as exit:\n"
        "        code = exit.code or 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'airbyte_cdk')\n"
        "print(json.dumps([code, loaded, out.getvalue()]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    code, loaded, printed = json.loads(result.stdout)
    return code, loaded, printed


@pytest.mark.parametrize(
    "args, code, says",
    [
        ([], 2, "source-events: no command given"),
        (["--help"], 0, "commands:"),
        (["read", "--help"], 0, "usage: source-events read"),
        (["check", "--help"], 0, "usage: source-events check"),
        (["read", "--config", "config.json"], 2, "the following arguments are required: --catalog"),
        (["discover"], 2, "the following arguments are required: --config"),
        (["spec", "--config", "config.json"], 2, "unrecognized arguments: --config config.json"),
    ],
)
def test_usage_and_its_errors_are_answered_before_the_cdk_is_imported(args, code, says):
    exit_code, loaded, printed = _main_in_a_fresh_process(args)

    assert (exit_code, loaded) == (code, [])
    assert says in printed


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_the_version_is_the_installed_one_and_answered_before_the_cdk_is_imported(flag):
    exit_code, loaded, printed = _main_in_a_fresh_process([flag])

    setup_version = re.search(r'^VERSION = "([^"]+)"', (ROOT / "setup.py").read_text(), re.MULTILINE).group(1)
    assert (exit_code, loaded, printed) == (0, [], f"source-events {setup_version}\n")


def test_read_help_lists_only_options_that_do_something():
    _, _, printed = _main_in_a_fresh_process(["read", "--help"])

    assert "--manifest-path" not in printed and "--components-path" not in printed
    for option in ("--config CONFIG", "--catalog CATALOG", "--state STATE", "--debug"):
        assert option in printed


_ALL_OPTIONS = {
    "spec": ["--debug"],
    "check": ["--config", "c.json", "--debug"],
    "discover": ["--config", "c.json", "--debug"],
    "read": ["--config", "c.json", "--catalog", "k.json", "--state", "s.json", "--debug"],
}


@pytest.mark.parametrize("command", PROTOCOL_COMMANDS)
@pytest.mark.parametrize("with_options", [True, False])
def test_the_options_checked_before_the_cdks_import_are_the_cdks_own(command, with_options):
    """What the entrypoint accepts, the CDK's entrypoint (which runs the command) reads the same way."""
    required = {"spec": [], "check": ["--config", "c.json"], "discover": ["--config", "c.json"]}
    args = _ALL_OPTIONS[command] if with_options else required.get(command, _ALL_OPTIONS[command][:4])

    ours = vars(protocol_parser(command).parse_args(args))
    cdks = vars(AirbyteEntrypoint.parse_args([command, *args]))

    assert cdks.pop("command") == command
    assert {k: v for k, v in cdks.items() if k not in MANIFEST_ONLY_OPTIONS} == ours
    assert all(cdks.get(option) is None for option in MANIFEST_ONLY_OPTIONS)


@pytest.mark.parametrize(
    "failure_type, traceback_kept", [("config_error", False), ("transient_error", False), ("system_error", True)]
)
def test_an_error_said_plainly_is_logged_without_its_traceback_and_a_bug_with_it(failure_type, traceback_kept):
    """A config error is the user's to fix, a transient one the API's (a failing API's read logged the HTTP client's
    traceback, 82 lines, under its plain last line): logged as its message. Any other keeps its stack trace."""
    from airbyte_cdk.models import FailureType

    from source_events.cdk_run import _without_traceback_for_errors_said_plainly
    from source_events.common.errors import UserFacingError

    failure_type = FailureType(failure_type)

    error = UserFacingError(
        message="The API is failing or unavailable (5xx): host answered HTTP 503", failure_type=failure_type
    )
    record = logging.LogRecord(
        "airbyte", logging.ERROR, __file__, 1, "Exception while syncing stream s", (), (UserFacingError, error, None)
    )

    assert _without_traceback_for_errors_said_plainly(record)
    assert (record.exc_info is not None) == traceback_kept
    if not traceback_kept:
        assert record.getMessage() == "Exception while syncing stream s: " + error.message
