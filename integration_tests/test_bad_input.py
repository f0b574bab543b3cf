"""Bad configs and states, each with the exact line a user sees: `check` FAILED with it, or a TRACE error
with failure_type config_error; stdout holds protocol messages only and never a Python traceback."""

import json
from pathlib import Path

import pytest

from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.manifest import stream_sections
from testkit.cli import run_cli
from testkit.emulator import session_emulator

CATALOG = json.loads((Path(__file__).parent / "configured_catalog.json").read_text())
FLAMEUP = {
    "api_key": FLAMEUP_API_KEY,
    "workspace_id": WORKSPACE_ID,
    "start_date": "2026-11-01T00:00:00Z",
    "base_url": session_emulator().flameup_base_url,
}
BEM = {"api_key": BEM_API_KEY, "base_url": session_emulator().bem_base_url}


def _state(stream: str, value) -> list:
    return [{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": value}}]


_NOT_JSON = '{"bem": {"api_key": "bem_emulator_key",}}'


def _where_json_stops(text: str) -> str:
    """Python's own words for where `text` stops being JSON (its column differs between Python versions)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    raise AssertionError(f"{text!r} is valid JSON")


# (id, command, config, state, the message the user sees)
BAD_CONFIGS = [
    (
        "missing_section",
        "check",
        {},
        None,
        "Invalid configuration: configure at least one API: add a `flameup` section, a `bem` section, or both.",
    ),
    ("empty_key", "check", {"bem": {**BEM, "api_key": " "}}, None, "Invalid configuration: `bem.api_key` is empty."),
    (
        "wrong_key",
        "check",
        {"flameup": {**FLAMEUP, "api_key": "ws_test_wrong"}},
        None,
        'Flameup rejected the API key (401). Check `flameup.api_key`: it must be a current workspace key (ws_live_… or ws_test_…) passed without the "Bearer " prefix.',
    ),
    (
        "unknown_workspace",
        "check",
        {"flameup": {**FLAMEUP, "workspace_id": "ws_nope"}},
        None,
        "Flameup found no workspace `ws_nope` (404). Check `flameup.workspace_id`, and `flameup.base_url` if you changed it.",
    ),
    (
        "start_date_future",
        "check",
        {"flameup": {**FLAMEUP, "start_date": "2999-01-01T00:00:00Z"}},
        None,
        "Invalid configuration: `flameup.start_date` '2999-01-01T00:00:00Z' is in the future; use a past date or date-time.",
    ),
    (
        "start_date_unparseable",
        "discover",
        {"flameup": {**FLAMEUP, "start_date": "01/02/2024"}},
        None,
        "Invalid configuration: `flameup.start_date` '01/02/2024' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z.",
    ),
    # the manifest's pace and readers read this setting as the source is built, before the config check
    (
        "requests_per_minute_a_string",
        "check",
        {"flameup": {**FLAMEUP, "requests_per_minute": "60"}},
        None,
        "Invalid configuration: `flameup.requests_per_minute` should be a valid integer.",
    ),
    (
        "requests_per_minute_null",
        "discover",
        {"flameup": {**FLAMEUP, "requests_per_minute": None}},
        None,
        "Invalid configuration: `flameup.requests_per_minute` is null: leave the setting out to leave it unset.",
    ),
    (
        "section_not_an_object",
        "check",
        {"flameup": "yes", "bem": BEM},
        None,
        "Invalid configuration: `flameup` should be a JSON object of its settings.",
    ),
    (
        "flameup_page_size_0",
        "check",
        {"flameup": {**FLAMEUP, "page_size": 0}},
        None,
        "Invalid configuration: `flameup.page_size` should be greater than or equal to 1.",
    ),
    (
        "bem_page_size_101",
        "read",
        {"bem": {**BEM, "page_size": 101}},
        None,
        "Invalid configuration: `bem.page_size` should be less than or equal to 100.",
    ),
    (
        "http_to_a_public_host",
        "check",
        {"bem": {**BEM, "base_url": "http://api.bem.ai/v1-alpha"}},
        None,
        "Invalid configuration: `bem.base_url` must use HTTPS: its host `api.bem.ai` is not local, and plain HTTP is "
        "accepted only for localhost / 127.0.0.1 / ::1.",
    ),
    (
        "unknown_filter_value",
        "discover",
        {"bem": {**BEM, "event_types": ["transfrom"]}},
        None,
        "Invalid configuration: `bem.event_types[0]` should be 'transform', 'route', 'split_collection', 'split_item', 'error' or 'join'.",
    ),
    (
        # pasted with its line break: requests would refuse the header and print it escaped, past the filter
        "api_key_with_a_line_break",
        "check",
        {"flameup": {**FLAMEUP, "api_key": FLAMEUP_API_KEY + "\n"}},
        None,
        "Invalid configuration: `flameup.api_key` contains a line break or another control character: paste the key alone, without it.",
    ),
    (
        "page_size_as_a_string",
        "read",
        {"bem": {**BEM, "page_size": "100"}},
        None,
        "Invalid configuration: `bem.page_size` should be a valid integer.",
    ),
    (
        "wrong_key_during_read",
        "read",
        {"bem": {**BEM, "api_key": "bem_wrong"}},
        None,
        "bem rejected the API key (401). Check `bem.api_key`: copy the key from the bem dashboard (Settings → API keys).",
    ),
    (
        "unusable_state_value",
        "read",
        {"flameup": FLAMEUP},
        _state("flameup_events", {"timestamp": "last week"}),
        "The saved state of stream flameup_events is unusable (`timestamp` is not a date-time). Reset the stream's state (in Airbyte: the stream's 'Clear data'), or pass a state written by this connector.",
    ),
    (
        "malformed_state_blob",
        "read",
        {"flameup": FLAMEUP},
        [{"type": "STREAM"}],
        "cannot be used: AirbyteStateMessage should contain either a stream, global, or state field. Pass the JSON list of states Airbyte wrote, or the file `source-events state READ_OUTPUT --output state.json` writes from a read's output; leave --state out for a first sync.",
    ),
    (
        "legacy_state_format",
        "read",
        {"flameup": FLAMEUP},
        {"flameup_events": {"timestamp": "2026-11-01T00:00:00Z"}},
        "cannot be used: it is a legacy state (one object for all streams); this connector reads a list of per-stream states. Pass the JSON list of states Airbyte wrote, or the file `source-events state READ_OUTPUT --output state.json` writes from a read's output; leave --state out for a first sync.",
    ),
    (
        "one_streams_bare_state",
        "read",
        {"flameup": FLAMEUP},
        {"timestamp": "2026-12-01T00:00:00Z"},
        'cannot be used: it looks like the state of `flameup_events` alone; a state file is a JSON list of per-stream states: [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "flameup_events"}, "stream_state": <it>}}]. Pass the JSON list of states Airbyte wrote, or the file `source-events state READ_OUTPUT --output state.json` writes from a read\'s output; leave --state out for a first sync.',
    ),
    (
        "one_stream_state_object",
        "read",
        {"flameup": FLAMEUP},
        _state("flameup_events", {"timestamp": "2026-11-01T00:00:00Z"})[0],
        "cannot be used: it is one state object, not a list: a state file is a JSON list of them, one per stream. Pass the JSON list",
    ),
    (
        "one_state_line_of_a_read",
        "read",
        {"flameup": FLAMEUP},
        {"type": "STATE", "state": _state("flameup_events", {"timestamp": "2026-11-01T00:00:00Z"})[0]},
        "cannot be used: it is one STATE message (a line of a read's output), not a state file. Pass the JSON list of states Airbyte wrote, or the file `source-events state READ_OUTPUT --output state.json` writes",
    ),
    (
        "the_output_of_a_read",
        "read",
        {"flameup": FLAMEUP},
        '{"type":"LOG","log":{"level":"INFO","message":"Starting syncing"}}\n'
        + json.dumps({"type": "STATE", "state": _state("flameup_events", {"timestamp": "2026-11-01T00:00:00Z"})[0]})
        + "\n",
        "cannot be used: it holds a read's output (messages, one a line), not a state file.",
    ),
    (
        "config_not_json",
        "read",
        _NOT_JSON,
        None,
        # where it stops being JSON, the path said once (0.5.8 said it twice, with the CDK's "a valid JSON"); the
        # column is this Python's json's own (3.13 counts one fewer than 3.10 here)
        f"cannot be used: it is not valid JSON ({_where_json_stops(_NOT_JSON)}). Pass a JSON config file",
    ),
    (
        # the CDK failed on it with a stack trace (fresh-clone review)
        "a_global_state",
        "read",
        {"bem": BEM},
        [{"type": "GLOBAL", "global": {"shared_state": {"x": 1}, "stream_states": []}}],
        "cannot be used: it holds a GLOBAL state (one for all streams, as other connectors write); this connector "
        "saves one state per stream.",
    ),
    (
        "bem_state_with_a_numeric_id",
        "read",
        {"bem": BEM},
        _state("bem_events", {"eventID": 42}),
        "The saved state of stream bem_events is unusable (no `eventID` event ID).",
    ),
]


@pytest.mark.parametrize(
    "command, config, state, expected", [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_input_gets_one_actionable_line_and_no_traceback(tmp_path, command, config, state, expected):
    # the streams of the APIs configured: a catalog naming another is refused first (test_new_user.py)
    catalog = {"streams": [s for s in CATALOG["streams"] if stream_sections()[s["stream"]["name"]] in config]}
    result = run_cli(tmp_path, command, config, catalog if command == "read" else None, state)

    if command == "check":
        assert result.connection_status == {"status": "FAILED", "message": expected}
    else:
        config_errors = [e for e in result.errors if e["failure_type"] == "config_error"]
        assert config_errors, result.stdout[-2000:]
        assert expected in config_errors[-1]["message"]
        assert "\n" not in config_errors[-1]["message"]
        assert result.returncode == 1
    assert "Traceback (most recent call last)" not in result.stdout
    assert FLAMEUP_API_KEY not in result.stdout + result.stderr and BEM_API_KEY not in result.stdout + result.stderr


def test_a_state_of_another_connectors_stream_is_said_and_ignored(tmp_path):
    catalog = {"streams": [s for s in CATALOG["streams"] if s["stream"]["name"] == "bem_events"]}

    result = run_cli(tmp_path, "read", {"bem": BEM}, catalog, _state("users", {"updated_at": "2026-01-01"}))

    assert result.returncode == 0 and not result.errors
    warned = [m["log"]["message"] for m in result.of_type("LOG") if m["log"]["level"] == "WARN"]
    assert any("holds the state of `users`, which this connector does not have" in line for line in warned), warned
    assert result.of_type("RECORD")  # bem read from its start


def test_bems_two_readers_failing_alike_log_each_error_once(tmp_path):
    server = session_emulator()
    began = len(server.received)
    catalog = {"streams": [s for s in CATALOG["streams"] if s["stream"]["name"] == "bem_events"]}

    result = run_cli(tmp_path, "read", {"bem": {**BEM, "api_key": "bem_wrong"}}, catalog)

    # both readers' first requests were refused: the oldest-first page and the newest-first reader's sort check
    refused = [r for r in server.received[began:] if r.api == "bem"]
    assert len(refused) == 2 and {r.query["limit"][0] for r in refused} == {"100", "10"}
    logs = [m["log"] for m in result.of_type("LOG")]
    said = "bem rejected the API key (401). Check `bem.api_key`"
    # 0.5.13 logged "Exception while syncing stream bem_events: …" once per reader, and the closing summary named
    # the same failure twice
    assert len([log for log in logs if log["level"] == "ERROR" and log["message"].startswith("Exception while")]) == 1
    (closing,) = [log["message"] for log in logs if "did not sync successfully" in log["message"]]
    assert closing.count(said) == 1, closing
    assert result.returncode == 1 and BEM_API_KEY not in result.stdout + result.stderr


def test_a_date_range_state_from_the_cdks_own_cursor_is_resumed_at_its_first_gap(tmp_path):
    older = {
        "state_type": "date-range",
        "slices": [
            {"start": "2026-11-01T00:00:00.000000Z", "end": "2026-11-10T00:00:00.000000Z"},
            {"start": "2026-11-10T00:00:00.000000Z", "end": "2026-11-20T00:00:00.000000Z"},
            {"start": "2026-11-22T00:00:00.000000Z", "end": "2026-11-24T00:00:00.000000Z"},
        ],
    }
    config = {"flameup": {**FLAMEUP, "lookback_window_minutes": 0}}

    result = run_cli(tmp_path, "read", config, {"streams": CATALOG["streams"][:1]}, _state("flameup_events", older))

    assert result.returncode == 0 and not result.errors
    records = [m["record"]["data"] for m in result.of_type("RECORD")]
    assert records and min(r["timestamp"] for r in records) >= "2026-11-20T00:00:00"


_DISCOVERED = {"streams": [{**s["stream"]} for s in CATALOG["streams"]]}
_NO_SYNC_MODE = {"streams": [{k: v for k, v in s.items() if k != "sync_mode"} for s in CATALOG["streams"]]}


@pytest.mark.parametrize(
    "catalog, expected",
    [
        (_DISCOVERED, "it holds the streams as `discover` lists them, not a configured catalog"),
        (_NO_SYNC_MODE, 'streams/0/sync_mode: "sync_mode" is a required property'),
        ({"type": "CATALOG", "catalog": _DISCOVERED}, "it holds `discover`'s output (its CATALOG message)"),
        (
            '{"type": "LOG", "log": {"level": "INFO", "message": "x"}}\n'
            + json.dumps({"type": "CATALOG", "catalog": _DISCOVERED}),
            "it holds `discover`'s output (its CATALOG message)",
        ),
    ],
    ids=["discover_streams", "stream_without_sync_mode", "discover_catalog_message", "discover_stdout"],
)
def test_a_catalog_read_cannot_use_is_refused_naming_the_field_and_the_command_that_writes_one(
    tmp_path, catalog, expected
):
    result = run_cli(tmp_path, "read", {"flameup": FLAMEUP, "bem": BEM}, catalog)

    (error,) = result.errors
    assert error["failure_type"] == "config_error" and result.returncode == 1
    assert expected in error["message"]
    assert "`source-events catalog --config CONFIG --output catalog.json`" in error["message"]
    assert "\n" not in error["message"]
