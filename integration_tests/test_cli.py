"""The CLI's edges, through the real `source-events` in a subprocess against an emulator on a free port: Ctrl-C
during a read, one error line per failure, no CDK noise, a setting parsed (and warned of) once a command."""

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from source_events.emulator import BemApi, FlameupApi
from source_events.emulator.datasets import bem_events, flameup_events
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server
from source_events.emulator.server import EmulatorServer
from testkit.cli import run_cli
from testkit.emulator import emulator_config, session_emulator

CATALOG = json.loads((Path(__file__).parent / "configured_catalog.json").read_text())
BEM_ONLY = {"streams": [s for s in CATALOG["streams"] if s["stream"]["name"] == "bem_events"]}
KEYS = {"flameup_events": "id", "bem_events": "eventID"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "source_events", *args]


def _write(tmp_path: Path, name: str, value) -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def test_ctrl_c_ends_a_read_at_once_with_exit_code_130_and_whole_lines_to_resume_from(tmp_path):
    # 0.1 s a page and 20 pages a stream: the read is far from done when its first STATE is printed
    with sample_server(port=0, flameup_count=2_000, bem_count=2_000, seed=11) as server:
        server.latency_seconds = 0.1
        config = _write(tmp_path, "config.json", emulator_config(server, flameup={"page_size": 100}, bem={}))
        catalog = _write(tmp_path, "catalog.json", CATALOG)
        read = subprocess.Popen(
            _cli("read", "--config", config, "--catalog", catalog),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        before = []
        for line in read.stdout:
            before.append(line)
            if line.startswith('{"type":"STATE"'):
                break
        read.send_signal(signal.SIGINT)
        interrupted_at = time.monotonic()
        after = list(read.stdout)  # the same file object: lines it has read ahead are not lost
        read.wait(timeout=60)
        seconds_to_end = time.monotonic() - interrupted_at
        errors = read.stderr.read()
        output = "".join(before + after)

        assert read.returncode == 130, errors[-2000:]
        assert seconds_to_end < 5
        assert "Traceback" not in output + errors and "KeyboardInterrupt" not in output + errors
        assert "interrupted (Ctrl-C)" in errors
        assert output.endswith("\n")
        first = [json.loads(line) for line in output.splitlines()]  # every line a whole message
        states = [m for m in first if m["type"] == "STATE"]
        assert states

        read_output = _write(tmp_path, "read.jsonl", output)
        saved = subprocess.run(
            _cli("state", read_output, "--output", str(tmp_path / "state.json")), capture_output=True, text=True
        )
        assert saved.returncode == 0, saved.stderr
        resumed = run_cli(
            tmp_path, "read", json.loads(Path(config).read_text()), CATALOG, (tmp_path / "state.json").read_text()
        )
        truth = server.ground_truth()

    assert resumed.returncode == 0 and not resumed.errors, resumed.stdout[-2000:]
    for stream, key in KEYS.items():
        read_first = {
            m["record"]["data"][key] for m in first if m["type"] == "RECORD" and m["record"]["stream"] == stream
        }
        read_next = [m["record"]["data"][key] for m in resumed.of_type("RECORD") if m["record"]["stream"] == stream]
        assert read_first | set(read_next) == truth[stream], stream
        if stream in {s["state"]["stream"]["stream_descriptor"]["name"] for s in states}:
            assert len(read_next) < len(truth[stream]), f"{stream} started over instead of resuming"


def _session_config(**bem_settings) -> dict:
    return emulator_config(session_emulator(), bem=bem_settings)


def _logs(run) -> list[str]:
    return [m["log"]["message"] for m in run.of_type("LOG")]


def test_a_stream_that_fails_says_so_in_one_error_trace_naming_the_setting(tmp_path):
    result = run_cli(tmp_path, "read", _session_config(api_key="bem_wrong"), BEM_ONLY)

    assert result.returncode == 1
    assert [e["message"] for e in result.errors] == [
        "bem rejected the API key (401). Check `bem.api_key`: copy the key from the bem dashboard (Settings → API keys)."
    ]
    assert "stack_trace" not in result.errors[0]


def test_check_and_read_say_nothing_of_the_cdks_memory_monitor(tmp_path):
    check = run_cli(tmp_path, "check", _session_config())
    read = run_cli(tmp_path, "read", _session_config(), BEM_ONLY)

    assert check.connection_status == {"status": "SUCCEEDED"} and read.returncode == 0
    assert _logs(check) and _logs(read)
    assert not [line for line in _logs(check) + _logs(read) if "MemoryMonitor" in line]


def test_an_unknown_setting_is_named_once_a_command(tmp_path):
    """The config is parsed once a command: its warnings are printed once, by check and by read alike."""
    config = _session_config(notes="for the team")
    expected = "Unknown setting `bem.notes` is ignored."

    for run in (run_cli(tmp_path, "check", config), run_cli(tmp_path, "read", config, BEM_ONLY)):
        assert [line for line in _logs(run) if "Unknown setting" in line] == [expected]


def test_the_catalog_command_writes_the_catalog_of_a_one_api_config_that_read_takes(tmp_path):
    config = _write(tmp_path, "config.json", emulator_config(session_emulator(), flameup={}, bem={}))
    bem_only = _write(tmp_path, "bem_only.json", _session_config())

    written = subprocess.run(_cli("catalog", "--config", bem_only, "--output", str(tmp_path / "catalog.json")))
    read = subprocess.run(
        _cli("read", "--config", bem_only, "--catalog", str(tmp_path / "catalog.json")),
        capture_output=True,
        text=True,
        timeout=180,
    )
    both = subprocess.run(_cli("catalog", "--config", config), capture_output=True, text=True, timeout=60)
    other = subprocess.run(
        _cli("catalog", "--config", bem_only, "--stream", "flameup_events"), capture_output=True, text=True, timeout=60
    )
    misspelled = subprocess.run(
        _cli("catalog", "--config", bem_only, "--stream", "bem_event"), capture_output=True, text=True, timeout=60
    )
    bad_setting = _write(tmp_path, "bad.json", _session_config(event_types="transform"))
    refused = subprocess.run(_cli("catalog", "--config", bad_setting), capture_output=True, text=True, timeout=60)

    assert written.returncode == 0 and read.returncode == 0
    records = [json.loads(line)["record"] for line in read.stdout.splitlines() if '"RECORD"' in line]
    assert records and {r["stream"] for r in records} == {"bem_events"}
    assert [s["stream"]["name"] for s in json.loads(both.stdout)["streams"]] == ["flameup_events", "bem_events"]
    assert other.returncode == 1 and "provides bem_events, not flameup_events" in other.stderr
    assert misspelled.returncode == 1 and "no stream bem_event (did you mean bem_events?)" in misspelled.stderr
    assert refused.returncode == 1 and "`bem.event_types` should be a valid list" in refused.stderr
    assert refused.stdout == ""  # no catalog for a config that cannot be read


# values orjson would change or refuse (an integer past 64 bits becomes a float; a lone surrogate escape is
# refused): the emulator writes them as json does, as an API may
_UNUSUAL = {"big": 123456789012345678901234567890, "negative": -18446744073709551617, "half_emoji": "\ud83d"}


def test_values_orjson_cannot_hold_reach_the_output_exactly(tmp_path):
    end = datetime.now(timezone.utc) - timedelta(minutes=1)
    flameup = flameup_events(30, end - timedelta(days=2), end, WORKSPACE_ID, seed=5)
    bem = bem_events(30, end - timedelta(days=1), end, seed=5)
    flameup[7]["properties"] = dict(_UNUSUAL)
    bem[7]["transformedContent"] = dict(_UNUSUAL)
    apis = FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, flameup), BemApi(BEM_API_KEY, bem)
    with EmulatorServer(*apis) as server:
        start = (end - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = run_cli(tmp_path, "read", emulator_config(server, flameup={"start_date": start}, bem={}), CATALOG)

    assert result.returncode == 0, result.stderr[-2000:]
    # the output as Python's json reads it, which keeps integers exact and reads `\ud83d` back (0.5.13: the
    # integers came as floats, and a page with the lone surrogate failed every sync)
    data = [json.loads(line)["record"]["data"] for line in result.stdout.splitlines() if '"RECORD"' in line]
    assert len(data) == 60
    assert [d.get("properties", d.get("transformedContent")) for d in data].count(_UNUSUAL) == 2
    assert {
        d.get("id", d.get("eventID")) for d in data if _UNUSUAL in (d.get("properties"), d.get("transformedContent"))
    } == {
        flameup[7]["id"],
        bem[7]["eventID"],
    }


def test_a_full_refresh_read_reads_every_event_whatever_state_is_passed(tmp_path):
    config = emulator_config(session_emulator(), bem={})
    first = run_cli(tmp_path, "read", config, BEM_ONLY)
    state = [m["state"] for m in first.of_type("STATE")][-1:]
    whole = {
        "streams": [
            {**s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in BEM_ONLY["streams"]
        ]
    }

    again = run_cli(tmp_path, "read", config, whole, state)

    # 0.5.13 resumed from the state: the few events under its lookback, which `overwrite` would have kept alone
    assert state and len(again.of_type("RECORD")) == len(first.of_type("RECORD")) > 100
    said = [m["log"]["message"] for m in again.of_type("LOG")]
    assert "Stream bem_events is read in full refresh: the state passed for it is not used" in "\n".join(said)


def test_inputs_passed_as_pipes_that_read_once_work_as_files_do(tmp_path):
    """`--config <(op read …)` keeps a key off the disk; the CDK reads each input again after the connector did, and
    0.5.14 failed there (the pipe was empty the second time: "Could not read json file /dev/fd/63", a stack trace)."""
    config = _session_config()
    first = run_cli(tmp_path, "read", config, BEM_ONLY)
    state = [m["state"] for m in first.of_type("STATE")][-1:]

    check = run_cli(tmp_path, "check", config, through_pipes=True)
    piped = run_cli(tmp_path, "read", config, BEM_ONLY, state, through_pipes=True)
    filed = run_cli(tmp_path, "read", config, BEM_ONLY, state)

    assert check.connection_status == {"status": "SUCCEEDED"}
    assert piped.returncode == 0 and not piped.errors, piped.stdout[-2000:]
    resumed = [r["record"]["data"] for r in piped.of_type("RECORD")]
    assert state and resumed and resumed == [r["record"]["data"] for r in filed.of_type("RECORD")]
    # a bad input through a pipe is described from the text that was read, not from the pipe read empty again
    damaged = run_cli(tmp_path, "read", config, BEM_ONLY, '{"type": STREAM}', through_pipes=True)
    (error,) = damaged.errors
    assert error["message"].startswith("The state file /dev/fd/")
    assert "cannot be used: it is not valid JSON (Expecting value at line 1, column 10)" in error["message"]
