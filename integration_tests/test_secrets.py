"""API keys never appear in stdout or stderr, whatever the command, at debug level, on the error paths:
wrong keys (401), rate limits (429), server errors (5xx), an unreachable host. Every command runs as the
real CLI against the emulator, with keys distinctive enough that any leak would be found."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from source_events.emulator.server import Fault
from testkit.cli import run_cli
from testkit.emulator import bem_history, flameup_history, running_emulator

FLAMEUP_KEY = "ws_live_SECRET_f1a9c0d3e7b2"
BEM_KEY = "bem_sk_SECRET_5c7d9e1f3a"
CATALOG = json.loads((Path(__file__).parent / "configured_catalog.json").read_text())


@pytest.fixture(scope="module")
def server():
    with running_emulator(
        flameup_history(120, timedelta(days=3), seed=5, workspace_id="ws_secret"),
        bem_history(120, timedelta(hours=3), seed=5),
        workspace_id="ws_secret",
        flameup_api_key=FLAMEUP_KEY,
        bem_api_key=BEM_KEY,
    ) as running:
        yield running


def _config(server, flameup_key=FLAMEUP_KEY, bem_key=BEM_KEY, bem_url=None):
    return {
        "flameup": {
            "api_key": flameup_key,
            "workspace_id": "ws_secret",
            "start_date": (datetime.now(timezone.utc) - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "base_url": server.flameup_base_url,
            "page_size": 50,
        },
        "bem": {"api_key": bem_key, "base_url": bem_url or server.bem_base_url, "page_size": 50},
    }


def _scenarios(server):
    sent = server.request_count  # the server serves the whole module: faults count from here
    return {
        "spec": ("spec", None, None),
        "check": ("check", _config(server), None),
        "check_wrong_flameup_key": ("check", _config(server, flameup_key=FLAMEUP_KEY + "x"), None),
        "check_wrong_bem_key": ("check", _config(server, bem_key=BEM_KEY + "x"), None),
        "check_unreachable_host": ("check", _config(server, bem_url="http://127.0.0.1:9/v1-alpha"), None),
        "discover": ("discover", _config(server), None),
        "read_through_429_500_503": (
            "read",
            _config(server),
            [
                Fault(kind="rate_limit", at_request=sent + 2, retry_after_seconds=0.1),
                Fault(kind="server_error", at_request=sent + 4),
                Fault(kind="unavailable", at_request=sent + 6, retry_after_seconds=0.1),
            ],
        ),
        "read_wrong_keys": ("read", _config(server, flameup_key=FLAMEUP_KEY + "x", bem_key=BEM_KEY + "x"), None),
        # refused before any request (an invalid header echoed the key with a space before it, in 0.5.6)
        "read_refused_keys_with_spaces": (
            "read",
            _config(server, flameup_key=FLAMEUP_KEY + " ", bem_key=" " + BEM_KEY),
            None,
        ),
        "check_refused_keys_in_quotes": (
            "check",
            _config(server, flameup_key=f"\u201c{FLAMEUP_KEY}\u201d", bem_key=f"{BEM_KEY}\u2026"),
            None,
        ),
    }


@pytest.mark.parametrize(
    "scenario",
    [
        "spec",
        "check",
        "check_wrong_flameup_key",
        "check_wrong_bem_key",
        "check_unreachable_host",
        "discover",
        "read_through_429_500_503",
        "read_wrong_keys",
        "read_refused_keys_with_spaces",
        "check_refused_keys_in_quotes",
    ],
)
def test_no_command_prints_an_api_key_even_at_debug_level(server, tmp_path, scenario):
    command, config, faults = _scenarios(server)[scenario]
    server.faults = list(faults or [])
    server.served_faults.clear()

    result = run_cli(tmp_path, command, config, CATALOG if command == "read" else None, None, "--debug")

    output = result.stdout + result.stderr
    assert result.messages, "the command printed nothing"
    debug = [m["message"] for m in result.messages if m["type"] == "DEBUG"]
    if command != "spec":
        assert "Debug logs enabled" in debug
    if "refused" in scenario:
        assert "Invalid configuration" in output and "paste the key alone" in output
    elif command in ("check", "read") and scenario != "check_unreachable_host":
        # at debug level the CDK logs every request with its headers
        assert "Making outbound API request" in debug
    for secret in (FLAMEUP_KEY, BEM_KEY, "SECRET_f1a9c0d3e7b2", "SECRET_5c7d9e1f3a"):
        assert secret not in output, f"{scenario}: {secret} leaked"
    assert [fault.kind for fault in server.served_faults] == [fault.kind for fault in faults or []]
