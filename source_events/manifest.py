"""manifest.yaml read as data, without the CDK: the one source of what the connector declares.

Everything that needs a fact the manifest states asks here instead of keeping a copy: config validation
(the spec's bounds, defaults, patterns and enums: source_events.config), which config section switches each
stream on, each stream's primary key and cursor field (the emulator's ground truth, the benchmark), and bem's
event types (the emulator's data, the schema generator).
"""

import re
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")

# `condition: "{{ config.get('flameup') }}"`: the config section a ConditionalStreams group needs
_SECTION_CONDITION = re.compile(r"^\{\{\s*config\.get\('(?P<section>\w+)'\)\s*\}\}$")


@cache
def manifest() -> dict[str, Any]:
    import yaml

    return yaml.load(MANIFEST_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def connection_specification() -> dict[str, Any]:
    return manifest()["spec"]["connection_specification"]


def setting(section: str, name: str) -> dict[str, Any]:
    """One setting's JSON Schema in the spec, e.g. setting("bem", "page_size")["maximum"]."""
    return connection_specification()["properties"][section]["properties"][name]


def declared_streams() -> list[dict[str, Any]]:
    """The streams as the manifest declares them, each with the config section that switches it on."""
    streams = []
    for entry in manifest()["streams"]:
        if entry.get("type") == "ConditionalStreams":
            section = _SECTION_CONDITION.match(entry["condition"])["section"]
            streams += [{**stream, "section": section} for stream in entry["streams"]]
        else:
            streams.append({**entry, "section": None})
    return streams


@cache
def stream_sections() -> dict[str, str]:
    """Stream name -> the config section that configures (and switches on) that stream."""
    return {stream["name"]: stream["section"] for stream in declared_streams()}


@cache
def primary_keys() -> dict[str, str]:
    """Stream name -> its primary key (each stream has one field)."""
    return {stream["name"]: stream["primary_key"][0] for stream in declared_streams()}


@cache
def cursor_fields() -> dict[str, str]:
    """Stream name -> its cursor field, as `definitions.incremental_cursors` declares it."""
    return {name: cursor["cursor_field"] for name, cursor in manifest()["definitions"]["incremental_cursors"].items()}


def bem_event_types() -> list[str]:
    """The bem event types, as the spec's `bem.event_types` filter lists them (the documented ones)."""
    return list(setting("bem", "event_types")["items"]["enum"])


def with_spec_defaults(config: Any) -> Any:
    """The config with every setting it leaves out (or empty: "") set to the spec's `default`, in the sections it
    has: what the manifest's templates and source_events.config then read, so no default is written twice."""
    if not isinstance(config, dict):
        return config
    filled = dict(config)
    for section, schema in connection_specification()["properties"].items():
        values = filled.get(section)
        if not isinstance(values, dict):
            continue
        values = dict(values)
        for name, field in schema.get("properties", {}).items():
            # an explicit null is left for source_events.config to refuse by name
            if "default" in field and (name not in values or values[name] == ""):
                values[name] = field["default"]
        filled[section] = values
    return filled
