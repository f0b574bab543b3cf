"""The console entrypoint, `source-events spec|check|discover|read|state|demo`.

Answered without the CDK or the HTTP stack, whose import takes ~2 s: the usage message (`source-events`,
`--help`), `spec`, `discover` with a valid config (from manifest.yaml and the schema files alone;
unit_tests/test_startup.py checks that both answers equal the CDK's), `state` and `demo`. Everything else
goes through the CDK (source_events.run), including a `discover` whose config is invalid, so that the error
is reported as always, and each protocol command's `--help`.
"""

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")

# one line per command, for the usage message
COMMANDS = {
    "spec": "print the connector's configuration specification (a SPEC message)",
    "check": "test a config against the APIs: check --config CONFIG",
    "discover": "list the streams a config provides: discover --config CONFIG",
    "read": "replicate records and state: read --config CONFIG --catalog CATALOG [--state STATE]",
    "state": "save a read's last state of each stream for the next read: state READ_OUTPUT -o STATE",
    "demo": "a real sync of both streams against the embedded API emulator, end to end",
}

USAGE = (
    "usage: source-events <command> [options]\n\n"
    "An Airbyte source for the Flameup and bem event APIs. spec, check, discover and read write Airbyte\n"
    "protocol messages to stdout, one JSON object a line.\n\n"
    "commands:\n"
    + "".join(f"  {name:<10}{line}\n" for name, line in COMMANDS.items())
    + "\n`source-events <command> --help` describes a command's options.\n"
)


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else None
    if command in ("-h", "--help", "help"):
        print(USAGE, end="", flush=True)
        return
    if command not in COMMANDS:
        problem = "no command given" if command is None else f"unknown command {command!r}"
        print(f"source-events: {problem}\n\n{USAGE}", end="", file=sys.stderr, flush=True)
        sys.exit(2)
    if command == "demo":
        from source_events.demo import main as demo

        sys.exit(demo(args[1:]))
    if command == "state":
        sys.exit(state_command(args[1:]))
    if args == ["spec"]:
        print(spec_message(), flush=True)
        return
    if len(args) == 3 and args[0] == "discover" and args[1] == "--config":
        catalog = catalog_message(args[2])
        if catalog:
            print(catalog, flush=True)
            return
    from source_events.run import run

    sys.argv[0] = "source-events"  # the CDK's argparse names the program after it (`python -m`: __main__.py)
    run(args)


def _manifest() -> dict:
    import yaml

    return yaml.load(MANIFEST_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def spec_message() -> str:
    """The SPEC message, as the CDK writes it for this manifest."""
    spec = _manifest()["spec"]
    body = {
        "connectionSpecification": spec["connection_specification"],
        "documentationUrl": spec["documentation_url"],
        "supportsDBT": False,
        "supportsNormalization": False,
    }
    return _message({"type": "SPEC", "spec": body})


def catalog_message(config_path: str) -> str | None:
    """The CATALOG message for a valid config, as the CDK writes it; None when the config does not validate
    (against the spec's JSON Schema and source_events.config), so that the CDK reports why."""
    import jsonschema

    from source_events.config import STREAM_SECTIONS, EventsConfig

    manifest = _manifest()
    try:
        config = json.loads(Path(config_path).read_text())
        jsonschema.validate(config, manifest["spec"]["connection_specification"])
        settings = EventsConfig.model_validate(config)
    except Exception:  # noqa: BLE001 - any doubt goes to the CDK, which says what is wrong
        return None
    cursors = manifest["definitions"]["incremental_cursors"]
    streams = []
    for group in manifest["streams"]:
        for stream in group["streams"]:
            if getattr(settings, STREAM_SECTIONS[stream["name"]]) is None:
                continue
            schema_file = MANIFEST_PATH.parent / "schemas" / f"{stream['name']}.json"
            streams.append(
                {
                    "name": stream["name"],
                    "json_schema": json.loads(schema_file.read_text()),
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": [cursors[stream["name"]]["cursor_field"]],
                    "source_defined_primary_key": [[key] for key in stream["primary_key"]],
                    "is_resumable": True,
                    "is_file_based": False,
                }
            )
    return _message({"type": "CATALOG", "catalog": {"streams": streams}})


def _message(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


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
        previous = _read_state_file(options.output) if options.output and Path(options.output).exists() else []
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
            "source-events state: no STATE message in the input: pass the stdout of `source-events read`",
            file=sys.stderr,
        )
        return 1
    states = {_state_key(state): state for state in previous}
    kept = [key for key in states if key not in latest]
    states.update(latest)
    text = json.dumps(list(states.values()), indent=2) + "\n"
    if options.output:
        temporary = f"{options.output}.tmp"
        try:
            Path(temporary).write_text(text, encoding="utf-8")
            os.replace(temporary, options.output)  # a reader never sees half a file
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
    for error in errors:
        print(f"source-events state: note: the read reported an error: {error}", file=sys.stderr)
    return 0


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


def _read_state_file(path: str) -> list[dict[str, Any]]:
    try:
        states = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(f"{path} is not a JSON state file; pass another --output, or remove it") from None
    if not isinstance(states, list) or not all(isinstance(s, dict) for s in states):
        raise ValueError(f"{path} is not a list of per-stream states; pass another --output, or remove it")
    return states


def _state_key(state: dict[str, Any]) -> tuple[str, ...]:
    if state.get("type") == "STREAM":
        descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
        return ("STREAM", str(descriptor.get("namespace") or ""), str(descriptor.get("name")))
    return (str(state.get("type")),)  # a GLOBAL (or legacy) state: one for the whole source


def _names(keys: Iterable[tuple[str, ...]]) -> str:
    names = [key[-1] if key[0] == "STREAM" else f"the {key[0].lower()} state" for key in keys]
    return ", ".join(names) if names else "no stream"
