"""`source-events catalog`: the configured catalog of every stream a config provides, as `read --catalog` takes
it. Needs neither the CDK nor the HTTP stack.

Airbyte writes the configured catalog itself; run by hand, `discover` prints the streams but not in the form
`read` takes (a configured catalog wraps each stream with its sync mode, cursor and primary key). A config with
one API provides one stream, and a catalog naming the other is refused (source_events.catalog): this command
writes the catalog that fits the config.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from source_events import manifest
from source_events.config import read_settings
from source_events.input_files import input_text

SCHEMAS = Path(__file__).with_name("schemas")

CATALOG_HELP = """Write the configured catalog that `source-events read --catalog` takes, for every stream the config
provides (a config with one API: that API's stream), read incrementally and deduplicated by primary key:

  source-events catalog --config config.json --output catalog.json
  source-events read --config config.json --catalog catalog.json > read.jsonl"""


def catalog_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="source-events catalog", description=CATALOG_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="the connector config: its API sections choose the streams")
    parser.add_argument("-o", "--output", help="the catalog file to write (default: standard output)")
    parser.add_argument(
        "--stream", action="append", dest="streams", metavar="NAME", help="only this stream (repeat for several)"
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="read every stream whole each time (sync mode full_refresh, destination overwrite)",
    )
    options = parser.parse_args(argv)
    try:
        provided = streams_provided(options.config)
    except (OSError, ValueError) as error:
        print(f"source-events catalog: the config {options.config} cannot be used: {error}", file=sys.stderr)
        return 1
    chosen = options.streams or provided
    unknown = [name for name in chosen if name not in manifest.stream_sections()]
    if unknown:
        names = list(manifest.stream_sections())
        said = ", ".join(f"{name}{_guess(name)}" for name in unknown)
        print(f"source-events catalog: no stream {said}; the streams are {', '.join(names)}", file=sys.stderr)
        return 1
    refused = [name for name in chosen if name not in provided]
    if refused:
        print(
            f"source-events catalog: the config provides {', '.join(provided)}, not {', '.join(refused)}: "
            "add the API section of each stream you want (`flameup`, `bem`) to the config",
            file=sys.stderr,
        )
        return 1
    text = json.dumps(configured_catalog(chosen, options.full_refresh), indent=2) + "\n"
    if options.output:
        Path(options.output).write_text(text, encoding="utf-8")
        print(f"source-events catalog: wrote {', '.join(chosen)} to {options.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def catalog_file_problem(path: str) -> str | None:
    """What a --catalog file that the CDK cannot read is, when it is what `discover` prints (its output, its CATALOG
    message, or the streams it lists) rather than a configured catalog. None when it is none of these."""
    try:
        text = input_text(path)
    except (OSError, ValueError):
        return None
    try:
        found = [json.loads(text)]
    except ValueError:  # several lines: the messages of a command's output
        found = [_json_or_none(line) for line in text.splitlines() if line.strip()]
    for value in found:
        if not isinstance(value, dict):
            continue
        if value.get("type") == "CATALOG":
            return "it holds `discover`'s output (its CATALOG message), not a configured catalog"
        streams = value.get("streams")
        if isinstance(streams, list) and streams and all(isinstance(s, dict) and "name" in s for s in streams):
            return (
                "it holds the streams as `discover` lists them, not a configured catalog (each stream wrapped with "
                "its sync mode)"
            )
    return None


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _guess(name: str) -> str:
    close = manifest.closest_stream(name)
    return f" (did you mean {close}?)" if close else ""


def streams_provided(config_path: str) -> list[str]:
    """The streams the config switches on, in the manifest's order. ValueError: no JSON object, or a setting to fix
    (named, as `check` names it)."""
    config = json.loads(input_text(config_path))
    if not isinstance(config, dict):
        raise ValueError("it holds no JSON object")
    return read_settings(manifest.with_spec_defaults(config)).streams


def configured_catalog(streams: list[str], full_refresh: bool = False) -> dict[str, Any]:
    keys, cursors = manifest.primary_keys(), manifest.cursor_fields()
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8")),
                    "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True,
                    "default_cursor_field": [cursors[name]],
                    "source_defined_primary_key": [[keys[name]]],
                },
                "sync_mode": "full_refresh" if full_refresh else "incremental",
                "cursor_field": [cursors[name]],
                "destination_sync_mode": "overwrite" if full_refresh else "append_dedup",
                "primary_key": [[keys[name]]],
            }
            for name in streams
        ]
    }
