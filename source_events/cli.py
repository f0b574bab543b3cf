"""The console entrypoint, `source-events spec|check|discover|read|demo`.

Answered without the CDK or the HTTP stack, whose import takes ~2 s: the usage message (`source-events`,
`--help`), `spec`, `discover` with a valid config (from manifest.yaml and the schema files alone;
unit_tests/test_startup.py checks that both answers equal the CDK's) and `demo`. Everything else
goes through the CDK (source_events.run), including a `discover` whose config is invalid, so that the error
is reported as always, and each protocol command's `--help`.
"""

import json
import sys
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")

# one line per command, for the usage message
COMMANDS = {
    "spec": "print the connector's configuration specification (a SPEC message)",
    "check": "test a config against the APIs: check --config CONFIG",
    "discover": "list the streams a config provides: discover --config CONFIG",
    "read": "replicate records and state: read --config CONFIG --catalog CATALOG [--state STATE]",
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
