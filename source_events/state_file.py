"""`source-events state`: the last STATE of each stream in a `read`'s output, written as the next `--state`
file. Needs neither the CDK nor the HTTP stack."""

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from source_events.input_files import input_text

STATE_HELP = """Keep the last state of each stream from the output of `source-events read`, in the format --state
reads: a JSON list of the STATE messages' `state` objects. A stream for which the read emitted no state
keeps the one it had in --output, if that file exists; so after every read, the same two commands:

  source-events read --config config.json --catalog catalog.json --state state.json > read.jsonl
  source-events state read.jsonl --output state.json

The first read has no state.json yet: leave out --state. A read that failed part-way still checkpointed
every state it emitted; resuming from them loses nothing."""


def state_command(argv: list[str]) -> int:
    """`source-events state`: the latest STATE of each stream in a read's output, as a --state file."""
    parser = argparse.ArgumentParser(
        prog="source-events state", description=STATE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "read_output", nargs="*", help="files holding the stdout of `source-events read` (default: standard input)"
    )
    parser.add_argument(
        "-o",
        "--output",
        help="the state file to write (default: standard output); streams the read did not checkpoint keep their state from it",
    )
    options = parser.parse_args(argv)
    try:
        # only a regular file holds earlier states: `-o /dev/stdout` (a pipe, a terminal) would be read, and wait
        previous = _read_state_file(options.output) if options.output and Path(options.output).is_file() else []
        if options.read_output:
            latest, errors = {}, []
            for name in options.read_output:
                with open(name, encoding="utf-8") as lines:
                    found, failed = latest_states(lines)
                latest.update(found)
                errors += failed
        else:
            latest, errors = latest_states(sys.stdin)
    except (OSError, ValueError) as error:
        print(f"source-events state: {error}", file=sys.stderr)
        return 1
    if not latest and not previous:
        print(
            "source-events state: no STATE message in the input, so no progress to save. If it is the stdout of "
            "`source-events read`, that read stopped or failed before its first checkpoint: the next read starts "
            "from the beginning (leave out --state).",
            file=sys.stderr,
        )
        _say_errors(errors)
        return 1
    states = {_state_key(state): state for state in previous}
    kept = [key for key in states if key not in latest]
    states.update(latest)
    # in the streams' order, whatever order the read checkpointed them in: two files diff by their states alone
    text = json.dumps(sorted(states.values(), key=_state_key), indent=2) + "\n"
    if options.output:
        try:
            _write(Path(options.output), text)
        except OSError as error:
            print(f"source-events state: cannot write {options.output}: {error.strerror or error}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    where = options.output or "standard output"
    summary = f"source-events state: the state of {_names(latest)} written to {where}"
    if kept:
        summary += f"; {_names(kept)} kept as before (no state for it in this read)"
    print(summary, file=sys.stderr)
    _say_errors(errors)
    return 0


def _say_errors(errors: list[str]) -> None:
    for error in errors:
        print(f"source-events state: note: the read reported an error: {error}", file=sys.stderr)


def latest_states(lines: Iterable[str]) -> tuple[dict[tuple[str, ...], dict[str, Any]], list[str]]:
    """The last STATE of each stream among a read's output lines (without its record counts), and the
    messages of the read's error TRACEs. Lines that are not protocol messages are skipped."""
    latest: dict[tuple[str, ...], dict[str, Any]] = {}
    errors: list[str] = []
    for line in lines:
        head = line[:40]  # the CDK writes "type" first: records are skipped without parsing them
        if '"STATE"' not in head and '"TRACE"' not in head:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if message.get("type") == "STATE" and isinstance(message.get("state"), dict):
            state = {k: v for k, v in message["state"].items() if k not in ("sourceStats", "destinationStats")}
            latest[_state_key(state)] = state
        elif message.get("type") == "TRACE" and (message.get("trace") or {}).get("type") == "ERROR":
            errors.append((message["trace"].get("error") or {}).get("message", ""))
    return latest, errors


def state_file_problem(path: str) -> str | None:
    """What a --state file that the CDK cannot read is, when it is something a user is likely to pass: a read's
    output, one STATE line, one stream's state, or a legacy state. None when it is none of these."""
    try:
        text = input_text(path)
    except (OSError, ValueError):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        latest, _ = latest_states(text.splitlines())
        if latest:
            return "it holds a read's output (messages, one a line), not a state file"
        return None
    if isinstance(value, list) and any(isinstance(item, dict) and item.get("type") == "STATE" for item in value):
        return "it is a list of STATE messages; a state file lists their `state` objects"
    if not isinstance(value, dict):
        return None
    if value.get("type") == "STATE":
        return "it is one STATE message (a line of a read's output), not a state file"
    if value.get("type") in ("STREAM", "GLOBAL"):
        return "it is one state object, not a list: a state file is a JSON list of them, one per stream"
    stream = "flameup_events" if "timestamp" in value else "bem_events" if "eventID" in value else None
    if stream:
        return (
            f"it looks like the state of `{stream}` alone; a state file is a JSON list of per-stream states: "
            f'[{{"type": "STREAM", "stream": {{"stream_descriptor": {{"name": "{stream}"}}, "stream_state": <it>}}}}]'
        )
    return "it is a legacy state (one object for all streams); this connector reads a list of per-stream states"


def _read_state_file(path: str) -> list[dict[str, Any]]:
    try:
        states = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(f"{path} is not a JSON state file; pass another --output, or remove it") from None
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise ValueError(f"{path} is not a list of per-stream states; pass another --output, or remove it")
    return states


def _write(path: Path, text: str) -> None:
    if path.exists() and not path.is_file():
        path.write_text(text, encoding="utf-8")  # a pipe or a terminal: no file to replace
        return
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)  # a reader never sees half a file


def _state_key(state: dict[str, Any]) -> tuple[str, ...]:
    if state.get("type") == "STREAM":
        descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
        return ("STREAM", str(descriptor.get("namespace") or ""), str(descriptor.get("name")))
    return (str(state.get("type")),)  # a GLOBAL (or legacy) state: one for the whole source


def _names(keys: Iterable[tuple[str, ...]]) -> str:
    names = [key[-1] if key[0] == "STREAM" else f"the {key[0].lower()} state" for key in keys]
    return ", ".join(names) if names else "no stream"
