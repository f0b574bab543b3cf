"""What a new user meets first, through the real `source-events` CLI against an emulator on a free port."""

import re
import subprocess
import sys
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, datetime, timedelta

import pytest

from integration_tests.cli import run_cli
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server
from source_events.emulator.server import EmulatorServer

CATALOG = {
    "streams": [
        {
            "stream": {
                "name": name,
                "json_schema": {},
                "supported_sync_modes": ["full_refresh", "incremental"],
                "source_defined_cursor": True,
                "default_cursor_field": [cursor],
                "source_defined_primary_key": [[cursor if name == "bem_events" else "id"]],
            },
            "sync_mode": "incremental",
            "cursor_field": [cursor],
            "destination_sync_mode": "append_dedup",
            "primary_key": [[cursor if name == "bem_events" else "id"]],
        }
        for name, cursor in (("flameup_events", "timestamp"), ("bem_events", "eventID"))
    ]
}


def _catalog(*names: str) -> dict:
    return {"streams": [deepcopy(s) for s in CATALOG["streams"] if s["stream"]["name"] in names]}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with sample_server(port=0, flameup_count=200, bem_count=200) as running:
        yield running


def _config(server: EmulatorServer, start_date: str = "2025-01-01") -> dict:
    return {
        "flameup": {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": start_date,
            "base_url": server.flameup_base_url,
        },
        "bem": {"api_key": BEM_API_KEY, "base_url": server.bem_base_url},
    }


def _no_secret_and_no_traceback(result) -> None:
    assert "Traceback (most recent call last)" not in result.stdout
    assert FLAMEUP_API_KEY not in result.stdout + result.stderr and BEM_API_KEY not in result.stdout + result.stderr


# --- flameup.start_date ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_a_date_only_start_date_is_midnight_utc_for_every_command(tmp_path, server, command):
    since = (datetime.now(UTC) - timedelta(days=20)).date()
    config = _config(server, start_date=since.isoformat())

    result = run_cli(tmp_path, command, config, _catalog("flameup_events") if command == "read" else None)

    assert result.returncode == 0 and not result.errors, result.stdout[-2000:]
    if command == "check":
        assert result.connection_status == {"status": "SUCCEEDED"}
    elif command == "discover":
        [catalog] = result.of_type("CATALOG")
        assert [s["name"] for s in catalog["catalog"]["streams"]] == ["flameup_events", "bem_events"]
    else:
        stamps = [m["record"]["data"]["timestamp"] for m in result.of_type("RECORD")]
        assert stamps and min(stamps) >= f"{since.isoformat()}T00:00:00"
    _no_secret_and_no_traceback(result)


@pytest.mark.parametrize("command", ["check", "discover", "read"])
@pytest.mark.parametrize(
    "value, problem",
    [
        (
            "01/02/2024",
            "'01/02/2024' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z",
        ),
        ("2024-01-01T10:00:00", "'2024-01-01T10:00:00' has no time zone: add one, e.g. 2024-01-01T10:00:00Z for UTC"),
        (
            "2024-02-30",
            "'2024-02-30' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z",
        ),
    ],
    ids=["not_iso", "no_zone", "no_such_day"],
)
def test_a_malformed_start_date_is_one_line_naming_the_setting_before_any_request(
    tmp_path, server, command, value, problem
):
    config = _config(server, start_date=value)
    requests_before = server.request_count

    result = run_cli(tmp_path, command, config, CATALOG if command == "read" else None)

    expected = f"Invalid configuration: `flameup.start_date` {problem}."
    if command == "check":
        assert result.connection_status == {"status": "FAILED", "message": expected}
    else:
        assert [(e["message"], e["failure_type"]) for e in result.errors] == [(expected, "config_error")]
        assert result.returncode == 1
    assert server.request_count == requests_before
    _no_secret_and_no_traceback(result)


# --- the usage message ----------------------------------------------------------------------------------

COMMANDS = ["spec", "check", "discover", "read", "demo"]


def _source_events(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "source_events", *args], capture_output=True, text=True, timeout=120, check=False
    )


def _commands_listed(text: str) -> list[str]:
    return re.findall(r"^  ([a-z]+) +\S.*$", text, re.MULTILINE)


def test_no_command_prints_the_usage_on_stderr_and_exits_2():
    result = _source_events()

    assert result.returncode == 2
    assert result.stdout == ""  # stdout is for protocol messages
    assert result.stderr.startswith("source-events: no command given\n\nusage: source-events <command>")
    assert set(COMMANDS) <= set(_commands_listed(result.stderr))
    assert "Traceback" not in result.stderr and "FATAL" not in result.stderr


@pytest.mark.parametrize("first", ["chekc", "--config"])
def test_an_unknown_command_is_named_with_the_usage_and_exits_2(first):
    result = _source_events(first, "x.json")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"source-events: unknown command {first!r}\n")
    assert set(COMMANDS) <= set(_commands_listed(result.stderr))


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command_with_a_line_each_without_importing_the_cdk(flag):
    probe = (
        "import sys, io, contextlib\n"
        "from source_events.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()) as out: main([{flag!r}])\n"
        "print(sorted(m for m in ('airbyte_cdk', 'requests') if m in sys.modules))\n"
        "print(out.getvalue(), end='')"
    )
    probed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded, usage = probed.stdout.split("\n", 1)
    result = _source_events(flag)

    assert loaded == "[]"
    assert result.returncode == 0 and result.stdout == usage and result.stderr == ""
    assert set(COMMANDS) <= set(_commands_listed(usage))


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_still_describes_its_options(command):
    result = _source_events(command, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: source-events {command} ")
    if command in ("check", "discover", "read"):
        assert "--config CONFIG" in result.stdout
    if command == "read":
        assert "--catalog CATALOG" in result.stdout and "--state STATE" in result.stdout


# --- a catalog naming streams the config does not provide -------------------------------------------------


@pytest.mark.parametrize(
    "apis, streams, named",
    [
        (
            ("bem",),
            ("flameup_events", "bem_events"),
            "`flameup_events` (needs a `flameup` section in the config). This config provides: `bem_events`.",
        ),
        (
            ("flameup", "bem"),
            ("flameup_events", "bem_event"),
            "`bem_event` (no such stream). This config provides: `flameup_events`, `bem_events`.",
        ),
        (
            ("flameup",),
            ("flameup_event", "bem_events"),
            "`bem_events` (needs a `bem` section in the config), `flameup_event` (no such stream). "
            "This config provides: `flameup_events`.",
        ),
    ],
    ids=["other_apis_stream", "misspelled", "both"],
)
def test_a_catalog_stream_the_config_does_not_provide_is_refused_in_one_line_before_any_request(
    tmp_path, server, apis, streams, named
):
    config = {api: section for api, section in _config(server).items() if api in apis}
    catalog = _catalog("flameup_events", "bem_events")
    for entry, name in zip(catalog["streams"], streams, strict=True):
        entry["stream"]["name"] = name
    requests_before = server.request_count

    result = run_cli(tmp_path, "read", config, catalog)

    assert result.returncode == 1
    assert [(e["message"], e["failure_type"]) for e in result.errors] == [
        (
            f"The catalog names streams this config does not provide: {named} Remove them from the catalog "
            "(`source-events discover --config …` lists the streams) or configure their API.",
            "config_error",
        )
    ]
    assert not result.of_type("RECORD") and not result.of_type("STATE")
    assert server.request_count == requests_before
    assert all("stack_trace" not in e for e in result.errors)
    _no_secret_and_no_traceback(result)


def test_a_catalog_of_the_configured_streams_only_is_read(tmp_path, server):
    config = {"bem": _config(server)["bem"]}

    result = run_cli(tmp_path, "read", config, _catalog("bem_events"))

    assert result.returncode == 0 and not result.errors
    assert {m["record"]["stream"] for m in result.of_type("RECORD")} == {"bem_events"}
