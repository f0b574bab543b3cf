"""What a new user meets first, through the real `source-events` CLI against an emulator on a free port."""

from collections.abc import Iterator
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
    return {"streams": [s for s in CATALOG["streams"] if s["stream"]["name"] in names]}


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
