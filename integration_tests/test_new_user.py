"""What a new user meets first, through the real `source-events` CLI against an emulator on a free port."""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from copy import deepcopy
from datetime import datetime, timedelta, timezone

import pytest

from source_events.emulator.faults import Fault
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server
from source_events.emulator.server import EmulatorServer
from testkit.cli import run_cli

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
    since = (datetime.now(timezone.utc) - timedelta(days=20)).date()
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


def test_check_of_a_base_url_that_answers_with_a_web_page_fails_at_once_naming_it(tmp_path):
    """A site's address for `base_url` (200, HTML): 0.5.14's check retried it for two and a half minutes."""
    with sample_server(port=0, flameup_count=10, bem_count=10) as site:
        site.faults.append(Fault(kind="web_page", at_request=1, times=1000))

        result = run_cli(tmp_path, "check", _config(site))

        assert result.connection_status["status"] == "FAILED"
        assert "answered /api/v1/workspaces/" in result.connection_status["message"]
        assert (
            "with a web page (HTTP 200, text/html), not an events list: check `flameup.base_url`"
            in (result.connection_status["message"])
        )
        # each API asked once by the connector's own look, then once by the CDK's check: no retry
        assert site.request_count == 4
    _no_secret_and_no_traceback(result)


def test_check_sends_no_key_along_a_redirect_to_another_host(tmp_path):
    """The connector's own first look (quick_check) followed redirects anywhere, bem's key with it."""
    with (
        sample_server(port=0, flameup_count=10, bem_count=10) as api,
        sample_server(port=0, flameup_count=10, bem_count=10) as elsewhere,
    ):
        # "localhost" is another host than the base URL's 127.0.0.1, for the client: where a key must not go
        other = "http://localhost:" + elsewhere.base_url.rsplit(":", 1)[1]
        api.faults.append(Fault(kind="redirect_elsewhere", at_request=1, times=1000, redirect_to=other))

        result = run_cli(tmp_path, "check", {"bem": _config(api)["bem"]})

        assert result.connection_status["status"] == "FAILED"
        assert f"with a redirect (301) to {other}/v1-alpha/events" in result.connection_status["message"]
        assert "set `bem.base_url` to it" in result.connection_status["message"]
        assert api.request_count == 2 and elsewhere.request_count == 0  # the look, then the CDK's check
    _no_secret_and_no_traceback(result)


# --- the usage message ----------------------------------------------------------------------------------

COMMANDS = ["spec", "check", "discover", "read", "catalog", "state", "demo"]


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


@pytest.mark.parametrize("first, guess", [("chekc", " (did you mean check?)"), ("--config", "")])
def test_an_unknown_command_is_named_with_the_usage_and_exits_2(first, guess):
    result = _source_events(first, "x.json")

    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"source-events: unknown command {first!r}{guess}\n")
    assert set(COMMANDS) <= set(_commands_listed(result.stderr))


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_every_command_with_a_line_each_without_importing_the_cdk(flag):
    probe = (
        "import sys, io, contextlib\n"
        "from source_events.entrypoint import main\n"
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
    if command in ("check", "discover", "read", "catalog"):
        assert "--config CONFIG" in result.stdout
    if command == "read":
        assert "--catalog CATALOG" in result.stdout and "--state STATE" in result.stdout
        # where the files read takes come from (fresh-clone review: the CDK's text named neither command)
        said = " ".join(result.stdout.split())
        assert "`source-events catalog --config CONFIG -o CATALOG` writes one" in said
        assert "`source-events state READ_OUTPUT -o STATE` writes it" in said


# --- a catalog naming streams the config does not provide -------------------------------------------------


@pytest.mark.parametrize(
    "apis, streams, named",
    [
        (
            ("bem",),
            ("flameup_events", "bem_events"),
            "`flameup_events` (needs a `flameup` section in the config, not switched off by `flameup.replicate`). This config provides: `bem_events`.",
        ),
        (
            ("flameup", "bem"),
            ("flameup_events", "bem_event"),
            "`bem_event` (no such stream; did you mean `bem_events`?). This config provides: `flameup_events`, "
            "`bem_events`.",
        ),
        (
            ("flameup",),
            ("flameup_event", "bem_events"),
            "`bem_events` (needs a `bem` section in the config, not switched off by `bem.replicate`), `flameup_event` "
            "(no such stream; did you mean `flameup_events`?). "
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
            "(`source-events catalog --config … --output catalog.json` writes a catalog of the streams it provides) or "
            "configure their API.",
            "config_error",
        )
    ]
    assert not result.of_type("RECORD") and not result.of_type("STATE")
    assert server.request_count == requests_before
    assert all("stack_trace" not in e for e in result.errors)
    _no_secret_and_no_traceback(result)


def test_a_catalog_of_no_streams_is_refused_not_read_as_a_sync_that_found_nothing(tmp_path, server):
    """0.5.14 read nothing and exited 0: a catalog cut down by hand to no streams looked like a quiet sync."""
    requests_before = server.request_count

    result = run_cli(tmp_path, "read", {"bem": _config(server)["bem"]}, {"streams": []})

    assert result.returncode == 1
    assert [(e["message"], e["failure_type"]) for e in result.errors] == [
        (
            "The catalog lists no stream, so there is nothing to read. This config provides: `bem_events`. "
            "`source-events catalog --config … --output catalog.json` writes a catalog of the streams it provides.",
            "config_error",
        )
    ]
    assert server.request_count == requests_before
    _no_secret_and_no_traceback(result)


def test_a_catalog_of_the_configured_streams_only_is_read(tmp_path, server):
    config = {"bem": _config(server)["bem"]}

    result = run_cli(tmp_path, "read", config, _catalog("bem_events"))

    assert result.returncode == 0 and not result.errors
    assert {m["record"]["stream"] for m in result.of_type("RECORD")} == {"bem_events"}


# --- keeping a read's state for the next read -------------------------------------------------------------


def _state_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "source_events", "state", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _last_states(result) -> dict[str, dict]:
    """The last STATE message of each stream a read printed, as --state takes it (no record counts)."""
    last = {}
    for message in result.of_type("STATE"):
        state = {k: v for k, v in message["state"].items() if k != "sourceStats"}
        last[state["stream"]["stream_descriptor"]["name"]] = state
    return last


def _ids(result, stream: str, key: str) -> list[str]:
    return [m["record"]["data"][key] for m in result.of_type("RECORD") if m["record"]["stream"] == stream]


def test_the_state_kept_from_a_read_resumes_the_next_read(tmp_path):
    state_file = tmp_path / "kept_state.json"
    with sample_server(port=0, flameup_count=300, bem_count=300) as server:
        config = _config(server)
        first = run_cli(tmp_path, "read", config, CATALOG)
        (tmp_path / "first.jsonl").write_text(first.stdout)

        kept = _state_cli(str(tmp_path / "first.jsonl"), "--output", str(state_file))
        saved = json.loads(state_file.read_text())
        added = server.append_new_events(flameup_count=7, bem_count=5, seed=42)
        second = run_cli(tmp_path, "read", config, CATALOG, state_file.read_text())  # the file, as written

    assert first.returncode == 0 and not first.errors
    assert kept.returncode == 0 and kept.stdout == ""
    assert kept.stderr == f"source-events state: the state of bem_events, flameup_events written to {state_file}\n"
    assert sorted(saved, key=str) == sorted(_last_states(first).values(), key=str)
    assert second.returncode == 0 and not second.errors
    # the second read resumes: it has the new events, and of the old ones at most the overlap it re-reads
    # on purpose (Flameup's 10-minute lookback, bem's last second)
    for stream, key, total in (("flameup_events", "id", 300), ("bem_events", "eventID", 300)):
        assert set(added[stream]) <= set(_ids(second, stream, key))
        old = set(_ids(second, stream, key)) - set(added[stream])
        assert old <= set(_ids(first, stream, key)) and len(old) < total // 2, stream
    assert len(_ids(first, "flameup_events", "id")) == 300 and len(_ids(first, "bem_events", "eventID")) == 300


def test_the_state_written_to_a_pipe_is_not_read_first_and_lists_the_streams_in_order():
    """`-o /dev/stdout` names a pipe here (a terminal for a user): 0.5.9 read it first for earlier states, and waited
    for ever (found by the fresh-clone review of 0.5.10). The streams come in their names' order, whichever the read
    checkpointed first."""
    states = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": {"eventID": name}}}
        for name in ("flameup_events", "bem_events")
    ]
    read_output = "\n".join(json.dumps({"type": "STATE", "state": state}) for state in states)

    result = _state_cli("--output", "/dev/stdout", stdin=read_output)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == states[::-1]


def test_a_stream_the_read_did_not_checkpoint_keeps_its_state_and_the_file_is_replaced_whole(tmp_path):
    state_file = tmp_path / "state.json"
    bem = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "bem_events"}, "stream_state": {"eventID": "a"}}}
    old_flameup = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": "flameup_events"}, "stream_state": {"timestamp": "2026-01-01"}},
    }
    new_flameup = json.loads(json.dumps(old_flameup))
    new_flameup["stream"]["stream_state"]["timestamp"] = "2026-02-01T00:00:00.000000Z"
    state_file.write_text(json.dumps([bem, old_flameup]))
    read_output = "\n".join(
        [
            '{"type":"LOG","log":{"level":"INFO","message":"STATE"}}',
            '{"type":"RECORD","record":{"stream":"flameup_events","data":{"type":"STATE"},"emitted_at":1}}',
            json.dumps({"type": "STATE", "state": {**old_flameup, "sourceStats": {"recordCount": 3.0}}}),
            "not a protocol line",
            json.dumps({"type": "STATE", "state": {**new_flameup, "sourceStats": {"recordCount": 1.0}}}),
            '{"type":"TRACE","trace":{"type":"ERROR","emitted_at":2,"error":{"message":"bem said 503"}}}',
        ]
    )

    result = _state_cli("--output", str(state_file), stdin=read_output)

    assert result.returncode == 0, result.stderr
    assert json.loads(state_file.read_text()) == [bem, new_flameup]
    assert result.stderr.splitlines() == [
        f"source-events state: the state of flameup_events written to {state_file}; bem_events kept as before "
        "(no state for it in this read)",
        "source-events state: note: the read reported an error: bem said 503",
    ]
    assert not list(tmp_path.glob("*.tmp"))


def test_without_output_the_state_goes_to_stdout(tmp_path):
    state = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "bem_events"}, "stream_state": {"x": 1}}}

    result = _state_cli(stdin=json.dumps({"type": "STATE", "state": state}) + "\n")

    assert result.returncode == 0 and json.loads(result.stdout) == [state]


@pytest.mark.parametrize(
    "existing, read_output, problem",
    [
        (
            None,
            '{"type":"LOG","log":{"level":"INFO","message":"hi"}}\n',
            # a read stopped before its first checkpoint (Ctrl-C): what that means for the next read, not "pass the
            # stdout of read", which it is (fresh-clone review of 0.5.14)
            "no STATE message in the input, so no progress to save. If it is the stdout of `source-events read`, that "
            "read stopped or failed before its first checkpoint: the next read starts from the beginning (leave out "
            "--state).",
        ),
        ('{"flameup_events": {}}', "", "is not a list of per-stream states"),
        ("{not json", "", "is not a JSON state file"),
    ],
    ids=["no_state", "legacy_file", "not_json"],
)
def test_nothing_to_keep_or_an_unusable_state_file_is_one_line_and_the_file_is_left_alone(
    tmp_path, existing, read_output, problem
):
    state_file = tmp_path / "state.json"
    if existing is not None:
        state_file.write_text(existing)

    result = _state_cli("-o", str(state_file), stdin=read_output)

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and problem in result.stderr and "Traceback" not in result.stderr
    assert (state_file.read_text() if existing is not None else None) == existing


def test_a_state_file_that_cannot_be_written_is_one_line(tmp_path):
    state = {"type": "STREAM", "stream": {"stream_descriptor": {"name": "bem_events"}, "stream_state": {"x": 1}}}
    target = tmp_path / "missing" / "state.json"

    result = _state_cli("-o", str(target), stdin=json.dumps({"type": "STATE", "state": state}) + "\n")

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"source-events state: cannot write {target}: No such file or directory\n"
