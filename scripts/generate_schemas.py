#!/usr/bin/env python3
"""Generate each stream's JSON Schema from the documented example response body.

    python scripts/generate_schemas.py          # rewrite source_events/schemas/*.json
    python scripts/generate_schemas.py --check  # exit 1 if a committed schema differs from the generated one

Input: source_events/schema_examples/<stream>.json, the vendor reference page's example response,
verbatim. genson infers the shape of one event; ADJUSTMENTS then adds what a single example cannot
show, each with the source that documents it (the reference pages and ../shared/api-notes.md).
"""

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from genson import SchemaBuilder

from source_events.manifest import bem_event_types

PACKAGE = Path(__file__).resolve().parent.parent / "source_events"
EXAMPLES = PACKAGE / "schema_examples"
SCHEMAS = PACKAGE / "schemas"

ADJUSTMENTS: dict[str, dict[str, Any]] = {
    "flameup_events": {
        # primary key and cursor: never null
        "not_null": ["id", "timestamp"],
        # reference page: "Format: date-time"; api-notes: timestamp, created_at are date-times
        "formats": {"timestamp": "date-time", "created_at": "date-time"},
        "types": {},
        "enums": {},
        "added": {},
    },
    "bem_events": {
        "not_null": ["eventID"],
        "formats": {},
        # a duration in seconds: the example's 0 does not say it is never fractional
        "types": {"metadata.durationFunctionToEventSeconds": "number"},
        # api-notes: the six event types (the spec's `bem.event_types` filter lists them); the reference page's
        # example shows only `transform`
        "enums": {"eventType": bem_event_types()},
        # api-notes: newer API versions add these fields
        "added": {
            "createdAt": {"type": "string", "format": "date-time"},
            "functionCallTryNumber": {"type": "integer"},
        },
    },
}


def generate(stream: str) -> dict[str, Any]:
    body = json.loads((EXAMPLES / f"{stream}.json").read_text())
    builder = SchemaBuilder(schema_uri="http://json-schema.org/draft-07/schema#")
    for event in body["events"]:
        builder.add_object(event)
    inferred = builder.to_schema()
    adjust = ADJUSTMENTS[stream]

    properties = copy.deepcopy(inferred["properties"])
    properties.update(copy.deepcopy(adjust["added"]))
    for dotted, json_type in adjust["types"].items():
        _at(properties, dotted)["type"] = json_type
    for name, values in adjust["enums"].items():
        properties[name]["enum"] = values
    for name, fmt in adjust["formats"].items():
        properties[name]["format"] = fmt
    for name, prop in properties.items():
        _open_and_nullable(prop, nullable=name not in adjust["not_null"])

    return {
        "$schema": inferred["$schema"],
        "type": "object",
        "additionalProperties": True,
        "required": adjust["not_null"],
        "properties": dict(sorted(properties.items())),
    }


def _at(properties: dict[str, Any], dotted: str) -> dict[str, Any]:
    first, *rest = dotted.split(".")
    node = properties[first]
    for part in rest:
        node = node["properties"][part]
    return node


def _open_and_nullable(prop: dict[str, Any], nullable: bool) -> None:
    """Objects accept unknown keys (the APIs add fields); every value but the keys may be null."""
    prop.pop("required", None)
    if prop.get("type") == "object":
        prop["additionalProperties"] = True
        for child in prop.get("properties", {}).values():
            _open_and_nullable(child, nullable=True)
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        _open_and_nullable(prop["items"], nullable=False)
    if nullable and isinstance(prop.get("type"), str):
        prop["type"] = [prop["type"], "null"]
        if "enum" in prop:
            prop["enum"] = prop["enum"] + [None]


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed schemas, write nothing")
    args = parser.parse_args()
    drifted = []
    for stream in ADJUSTMENTS:
        target = SCHEMAS / f"{stream}.json"
        text = render(generate(stream))
        if args.check:
            if not target.exists() or target.read_text() != text:
                drifted.append(str(target))
        else:
            target.write_text(text)
            print(f"wrote {target}")
    if drifted:
        print("schemas differ from what scripts/generate_schemas.py generates: " + ", ".join(drifted), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
