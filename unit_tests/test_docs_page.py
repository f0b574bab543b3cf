"""docs/integrations/sources/events.md (the Airbyte registry's page) against the code, so it cannot go stale:
its headings follow Airbyte's docs template, and every setting, default, bound, stream, key, cursor, sync
mode, data type, version and the image tag it states are the ones the manifest, the schemas, metadata.yaml
and CHANGELOG.md hold."""

import json
import re
from pathlib import Path

import pytest
import yaml

from source_events.manifest import (
    SECTION_SWITCH,
    connection_specification,
    cursor_fields,
    declared_streams,
    primary_keys,
    required_settings,
    section_schema,
    section_settings,
)

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "integrations" / "sources" / "events.md").read_text()
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]

# Airbyte's docs template, in order (docs/integrations/sources/*.md in airbytehq/airbyte)
TEMPLATE_HEADINGS = [
    "## Prerequisites",
    "## Setup guide",
    "#### For Airbyte Cloud:",
    "#### For Airbyte Open Source:",
    "## Supported sync modes",
    "## Supported streams",
    "## Performance considerations",
    "## Data type map",
    "## Limitations & troubleshooting",
    "## Changelog",
]


def _section(heading: str) -> str:
    start = PAGE.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"\n#{2,3} ", PAGE[start:])
    return PAGE[start : start + following.start()] if following else PAGE[start:]


def _table(text: str) -> list[list[str]]:
    """The rows of the first markdown table in text, header and separator left out, cells stripped."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _code(cell: str) -> str:
    return cell.strip("`")


def _settings_rows() -> dict[str, list[str]]:
    return {_code(row[0]): row for row in _table(_section("### Settings"))}


def _spec_settings() -> dict[str, dict]:
    settings = {}
    for section in connection_specification()["properties"]:
        settings[f"{section}.{SECTION_SWITCH}"] = section_schema(section)["properties"][SECTION_SWITCH]
        settings.update({f"{section}.{name}": field for name, field in section_settings(section).items()})
    return settings


def test_the_headings_follow_airbytes_docs_template_in_order():
    positions = [PAGE.index(f"\n{heading}\n") for heading in TEMPLATE_HEADINGS]
    assert positions == sorted(positions)
    assert re.search(r"## Changelog\n\n<details>\n  <summary>.+</summary>\n", PAGE)
    assert PAGE.rstrip().endswith("</details>")


def test_every_setting_of_the_spec_is_listed_once_and_nothing_else():
    assert sorted(_settings_rows()) == sorted(_spec_settings())
    assert len(_table(_section("### Settings"))) == len(_spec_settings())


@pytest.mark.parametrize("name", sorted(_spec_settings()))
def test_each_settings_required_flag_default_and_bounds_are_the_specs(name):
    _, required, default, description = _settings_rows()[name]
    section, setting = name.split(".")
    field = _spec_settings()[name]

    assert required == ("yes" if setting in required_settings(section) else "no")
    if setting == SECTION_SWITCH:
        assert _code(default) == field["default"] == "yes"
    elif "default" in field:
        assert _code(default) == str(field["default"])
    else:
        assert default == ""
    if "minimum" in field and "maximum" in field:
        assert f"{field['minimum']}–{field['maximum']}" in description
    elif "maximum" in field:
        assert f"up to {field['maximum']}" in description
    for value in field.get("items", {}).get("enum", []):
        assert f"`{value}`" in description


def test_the_streams_keys_cursors_and_sync_modes_are_the_manifests():
    rows = {_code(row[0]): row for row in _table(_section("## Supported streams"))}

    assert list(rows) == [stream["name"] for stream in declared_streams()]
    for stream, (_, _, key, cursor, modes) in rows.items():
        assert _code(key) == primary_keys()[stream]
        assert _code(cursor) == cursor_fields()[stream]
        expected = ["full refresh", "incremental"] if stream in cursor_fields() else ["full refresh"]
        assert modes.split(", ") == expected


def test_the_sync_modes_table_offers_incremental_exactly_when_a_stream_has_a_cursor():
    rows = {row[0]: row[1] for row in _table(_section("## Supported sync modes"))}
    incremental = bool(cursor_fields())

    assert rows["Full Refresh Sync"] == "Yes"
    assert rows["Incremental - Append Sync"].startswith("Yes" if incremental else "No")
    assert rows["Incremental - Append + Deduped"].startswith("Yes" if incremental else "No")


def test_the_data_type_map_covers_every_type_the_schemas_declare():
    mapped = {row[0].replace("`", "") for row in _table(_section("## Data type map"))}
    declared = set()
    for path in (Path(__file__).parents[1] / "source_events" / "schemas").glob("*.json"):
        for field in json.loads(path.read_text())["properties"].values():
            types = [field["type"]] if isinstance(field["type"], str) else field["type"]
            for kind in (t for t in types if t != "null"):
                declared.add(f"{kind} ({field['format']})" if "format" in field else kind)

    assert declared and declared <= mapped


def test_the_changelog_lists_every_released_version_of_changelog_md_with_its_date():
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    listed = [(row[0], row[1]) for row in _table(PAGE[PAGE.index("<details>") :])]

    assert listed == released


def test_the_setup_steps_agree_with_metadata():
    cloud = METADATA["registryOverrides"]["cloud"]["enabled"]
    cloud_steps = _section("#### For Airbyte Cloud:")

    assert ("not enabled in Airbyte Cloud" in cloud_steps) is not cloud
    oss_steps = _section("#### For Airbyte Open Source:")
    assert f"`{METADATA['dockerRepository']}`" in oss_steps
    assert f"`{METADATA['dockerImageTag']}`" in oss_steps
    assert f"**{METADATA['name']}**" in oss_steps
    assert all(host in PAGE for host in METADATA["allowedHosts"]["hosts"])
