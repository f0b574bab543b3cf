"""Stream schemas are generated from the documented example bodies (scripts/generate_schemas.py) and
must not drift from what the generator writes."""

import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("generate_schemas", ROOT / "scripts" / "generate_schemas.py")
generate_schemas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate_schemas)

STREAMS = list(generate_schemas.ADJUSTMENTS)


@pytest.mark.parametrize("stream", STREAMS)
def test_committed_schema_is_exactly_what_the_generator_writes(stream):
    committed = (ROOT / "source_events" / "schemas" / f"{stream}.json").read_text()
    assert committed == generate_schemas.render(generate_schemas.generate(stream)), (
        "run: python scripts/generate_schemas.py"
    )


@pytest.mark.parametrize("stream", STREAMS)
def test_the_documented_example_events_validate_against_their_schema(stream):
    schema = generate_schemas.generate(stream)
    body = json.loads((ROOT / "source_events" / "schema_examples" / f"{stream}.json").read_text())
    for event in body["events"]:
        jsonschema.validate(event, schema, format_checker=jsonschema.FormatChecker())


def test_schemas_admit_nulls_and_unknown_fields_but_not_a_null_key():
    schema = generate_schemas.generate("bem_events")
    event = {
        "eventID": "ev_1",
        "referenceID": None,
        "metadata": {"durationFunctionToEventSeconds": 1.5, "new": 1},
        "brandNew": True,
    }
    jsonschema.validate(event, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"eventID": None}, schema)


def test_flameup_schema_marks_timestamps_as_date_times():
    properties = generate_schemas.generate("flameup_events")["properties"]
    assert properties["timestamp"] == {"type": "string", "format": "date-time"}
    assert properties["created_at"]["format"] == "date-time"
    assert properties["properties"]["additionalProperties"] is True


def test_bem_schema_lists_every_documented_event_type():
    event_type = generate_schemas.generate("bem_events")["properties"]["eventType"]
    assert event_type["enum"] == ["transform", "route", "split_collection", "split_item", "error", "join", None]


def test_check_mode_fails_on_drift(tmp_path, monkeypatch):
    for stream in STREAMS:
        (tmp_path / f"{stream}.json").write_text(generate_schemas.render(generate_schemas.generate(stream)))
    (tmp_path / "bem_events.json").write_text("{}\n")
    monkeypatch.setattr(generate_schemas, "SCHEMAS", tmp_path)
    monkeypatch.setattr("sys.argv", ["generate_schemas.py", "--check"])

    assert generate_schemas.main() == 1
