"""manifest.yaml read as data, without the CDK: the one source of what the connector declares.

Everything that needs a fact the manifest states asks here instead of keeping a copy: config validation
(the spec's bounds, defaults, patterns and enums: source_events.config), which config section switches each
stream on, each stream's primary key and cursor field (the emulator's ground truth, the benchmark), and bem's
event types (the emulator's data, the schema generator).
"""

import difflib
import re
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
# each config section's API, named as its vendor writes it (for messages)
API_NAMES = {"flameup": "Flameup", "bem": "bem"}

# `condition: "{{ config.get('flameup') }}"`: the config section a ConditionalStreams group needs
_SECTION_CONDITION = re.compile(r"^\{\{\s*config\.get\('(?P<section>\w+)'\)\s*\}\}$")


@cache
def manifest() -> dict[str, Any]:
    import yaml

    return yaml.load(MANIFEST_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def connection_specification() -> dict[str, Any]:
    return manifest()["spec"]["connection_specification"]


# Each API's section is a choice (`oneOf`) between replicating it and skipping it, told apart by this setting's
# `const` ("yes" / "no"): the Airbyte form needs it to let a user skip an API. A config file may leave it out.
SECTION_SWITCH = "replicate"


def _section_choices(section: str) -> list[dict[str, Any]]:
    return connection_specification()["properties"][section]["oneOf"]


def section_schema(section: str) -> dict[str, Any]:
    """The JSON Schema of an API's settings: the choice that replicates it (the one with settings of its own)."""
    return next(choice for choice in _section_choices(section) if set(choice["properties"]) - {SECTION_SWITCH})


def section_settings(section: str) -> dict[str, dict[str, Any]]:
    """Every setting of an API's section, by name, without the switch."""
    return {name: field for name, field in section_schema(section)["properties"].items() if name != SECTION_SWITCH}


def setting(section: str, name: str) -> dict[str, Any]:
    """One setting's JSON Schema in the spec, e.g. setting("bem", "page_size")["maximum"]."""
    return section_settings(section)[name]


def required_settings(section: str) -> list[str]:
    """The settings an API's section needs when it is replicated."""
    return list(section_schema(section).get("required", []))


def _switch_values(section: str) -> dict[Any, bool]:
    """The switch's value in each choice -> whether that choice replicates the API: {"yes": True, "no": False}."""
    replicating = section_schema(section)
    return {
        choice["properties"][SECTION_SWITCH]["const"]: choice is replicating for choice in _section_choices(section)
    }


def replicated_sections(config: Any) -> Any:
    """The config as the connector reads it: a section whose switch says skip is left out, the switch is taken
    out of the others. Raises ValueError naming a switch whose value is neither choice's."""
    if not isinstance(config, dict):
        return config
    replicated = dict(config)
    for section in connection_specification()["properties"]:
        values = replicated.get(section)
        if not isinstance(values, dict) or SECTION_SWITCH not in values:
            continue
        choices = _switch_values(section)
        switch = values[SECTION_SWITCH]
        if not isinstance(switch, str) or switch not in choices:
            allowed = " or ".join(f'"{value}"' for value in choices)
            raise ValueError(f"`{section}.{SECTION_SWITCH}` must be {allowed} (leave it out to replicate {section})")
        if choices[switch]:
            replicated[section] = {name: value for name, value in values.items() if name != SECTION_SWITCH}
        else:
            del replicated[section]
    return replicated


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


def closest_stream(name: str) -> str | None:
    """The connector's stream one typo or so away from `name` (a misspelt stream in a catalog or a command), if any."""
    close = difflib.get_close_matches(name, list(stream_sections()), n=1)
    return close[0] if close else None


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
    """The config with only the sections it replicates (replicated_sections), and every setting they leave out
    (or empty: "") set to the spec's `default`: what the manifest's templates and source_events.config then read,
    so no default is written twice."""
    if not isinstance(config, dict):
        return config
    try:
        filled = replicated_sections(config)
    except ValueError:
        filled = dict(config)  # source_events.config names the bad switch
    for section in connection_specification()["properties"]:
        values = filled.get(section)
        if not isinstance(values, dict):
            continue
        values = dict(values)
        for name, field in section_settings(section).items():
            # an explicit null is left for source_events.config to refuse by name
            if "default" in field and (name not in values or values[name] == ""):
                values[name] = field["default"]
        filled[section] = values
    return filled
