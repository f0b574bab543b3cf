"""`spec`, and `discover` with a valid config, answered from the manifest and the schema files alone: their
answers need neither the CDK nor the HTTP stack, whose import takes seconds. unit_tests/test_startup.py checks
that both equal the CDK's answers."""

import json
from pathlib import Path

from source_events.manifest import SCHEMAS_DIR, connection_specification, cursor_fields, declared_streams, manifest


def spec_message() -> str:
    """The SPEC message, as the CDK writes it for this manifest."""
    spec = manifest()["spec"]
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

    from source_events.config import EventsConfig

    try:
        config = json.loads(Path(config_path).read_text())
        jsonschema.validate(config, connection_specification())
        settings = EventsConfig.model_validate(config)
    except Exception:  # noqa: BLE001 - any doubt goes to the CDK, which says what is wrong
        return None
    streams = [
        {
            "name": stream["name"],
            "json_schema": json.loads((SCHEMAS_DIR / f"{stream['name']}.json").read_text()),
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": [cursor_fields()[stream["name"]]],
            "source_defined_primary_key": [[key] for key in stream["primary_key"]],
            "is_resumable": True,
            "is_file_based": False,
        }
        for stream in declared_streams()
        if getattr(settings, stream["section"]) is not None
    ]
    return _message({"type": "CATALOG", "catalog": {"streams": streams}})


def _message(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
