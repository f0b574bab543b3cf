"""The spec as the Airbyte form renders it (airbyte-platform's webapp: core/form/schemaToFormBlock.ts,
useBuildForm.tsx, Sections/useGroupsAndSections.tsx, Property/Control.tsx), read from the SPEC the CDK answers.

What the form does with it, and so what these tests hold:
- an object section is always built with its defaults, and its required fields are then required: an optional
  object cannot be left out. Each API is therefore a `oneOf` (radio cards) between replicating and skipping it.
- a field shows when it is required or `always_show`; the other optional fields fold into "Optional fields",
  at the end when they come last. Key fields, then filters, then the tuning, folded.
- `format: date-time` on a string is the date picker; the form checks the `pattern`, not the format.
- top-level fields with a `group` get a card each, in the order of the spec's `groups`.
"""

import logging
import re

import jsonschema
import pytest

from source_events import SourceEvents
from source_events.manifest import SECTION_SWITCH, replicated_sections, with_spec_defaults
from testkit.builders import BEM, BEM_KEY, FLAMEUP, a_flameup_event, run_check, run_discover

# every setting, by its key in a config file: the form's shape must not move one
SETTINGS = {
    "flameup": {
        "api_key",
        "workspace_id",
        "start_date",
        "lookback_window_minutes",
        "page_size",
        "user_id",
        "event",
        "requests_per_minute",
        "base_url",
        "request_timeout_seconds",
    },
    "bem": {
        "api_key",
        "page_size",
        "event_types",
        "function_names",
        "function_ids",
        "call_ids",
        "reference_ids",
        "is_labelled",
        "base_url",
        "lookback_window_seconds",
        "request_timeout_seconds",
    },
}
FILTERS = {
    "flameup": {"user_id", "event"},
    "bem": {"event_types", "function_names", "function_ids", "call_ids", "reference_ids", "is_labelled"},
}
TUNING = {
    "flameup": {"lookback_window_minutes", "page_size", "requests_per_minute", "base_url", "request_timeout_seconds"},
    "bem": {"lookback_window_seconds", "page_size", "base_url", "request_timeout_seconds"},
}


@pytest.fixture(scope="module")
def spec() -> dict:
    return SourceEvents().spec(logging.getLogger("test")).connectionSpecification


def _choices(spec: dict, section: str) -> tuple[dict, dict]:
    replicate, skip = spec["properties"][section]["oneOf"]
    return replicate, skip


def _shown_and_folded(choice: dict) -> tuple[list[str], list[str]]:
    """The form's rule inside a section: required or always_show fields show, the rest fold; const fields are
    hidden. Each list in the order the form sorts by."""
    required = set(choice.get("required", []))
    fields = sorted((f["order"], name) for name, f in choice["properties"].items() if "const" not in f)
    shown = [name for _, name in fields if name in required or choice["properties"][name].get("always_show")]
    folded = [name for _, name in fields if name not in shown]
    return shown, folded


def test_every_setting_keeps_its_key_under_its_api(spec):
    assert set(spec["properties"]) == set(SETTINGS)
    for section, names in SETTINGS.items():
        replicate, _ = _choices(spec, section)
        assert set(replicate["properties"]) - {SECTION_SWITCH} == names


@pytest.mark.parametrize("section", list(SETTINGS))
def test_each_api_is_a_visible_choice_between_replicating_and_skipping_it(spec, section):
    field = spec["properties"][section]
    replicate, skip = _choices(spec, section)

    assert field["type"] == "object" and field["display_type"] == "radio" and field["title"]
    assert section not in spec.get("required", [])  # a config file may leave an API out
    # the form defaults to the first choice and tells the choices apart by a shared const
    assert replicate["properties"][SECTION_SWITCH]["const"] == "yes"
    assert skip["properties"][SECTION_SWITCH]["const"] == "no"
    assert set(skip["properties"]) == {SECTION_SWITCH} and skip["required"] == [SECTION_SWITCH]
    assert SECTION_SWITCH not in replicate["required"]  # a config file may leave the switch out
    assert replicate["title"].startswith("Replicate") and skip["title"].startswith("Skip")


def test_each_api_has_its_own_card_flameup_first(spec):
    assert [group["id"] for group in spec["groups"]] == ["flameup", "bem"]
    assert [spec["properties"][section]["group"] for section in ("flameup", "bem")] == ["flameup", "bem"]
    assert spec["properties"]["flameup"]["order"] < spec["properties"]["bem"]["order"]


@pytest.mark.parametrize("section", list(SETTINGS))
def test_key_fields_come_first_then_the_filters_and_the_tuning_folds_at_the_end(spec, section):
    replicate, _ = _choices(spec, section)
    shown, folded = _shown_and_folded(replicate)
    required = replicate["required"]

    assert shown[: len(required)] == required  # the key fields, first, in the spec's order
    assert set(shown[len(required) :]) == FILTERS[section]
    assert set(folded) == TUNING[section]
    orders = [replicate["properties"][name]["order"] for name in shown + folded]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)  # one folded section, at the end


def test_no_title_or_description_calls_a_field_optional(spec):
    # the form marks required fields itself and folds the rest; "(optional)" in a title said it twice
    for section in SETTINGS:
        for choice in _choices(spec, section):
            for name, field in choice["properties"].items():
                assert "optional" not in field["title"].lower(), f"{section}.{name}"
                assert not field["description"].lower().startswith("optional"), f"{section}.{name}"


def test_start_date_has_a_date_picker_and_its_pattern_takes_a_date_or_a_date_time(spec):
    start_date = _choices(spec, "flameup")[0]["properties"]["start_date"]

    assert start_date["format"] == "date-time" and start_date["pattern_descriptor"]
    for value in ("2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T09:30:00+02:00"):
        assert re.search(start_date["pattern"], value)
    assert not re.search(start_date["pattern"], "2024-01-01T00:00:00")


def test_the_config_the_form_writes_for_one_api_is_valid_and_reads_as_that_api_alone(spec):
    # the form sends the chosen choice's fields, the switch included
    written = {"flameup": {"replicate": "no"}, "bem": {"replicate": "yes", "api_key": BEM_KEY, "page_size": 100}}

    jsonschema.validate(written, spec)  # as the CDK checks a config (no format checker)
    assert replicated_sections(written) == {"bem": {"api_key": BEM_KEY, "page_size": 100}}
    assert "flameup" not in with_spec_defaults(written)


@pytest.mark.parametrize("start_date", ["2026-10-01", "2026-10-01T00:00:00Z"])
def test_check_passes_with_a_date_or_a_date_time_start_date(config, flameup, http, start_date):
    flameup.events = [a_flameup_event("2026-10-02T08:00:00Z")]
    built = config.with_flameup(start_date=start_date).build()

    assert run_check(built).connection_status_messages[0].connectionStatus.status.value == "SUCCEEDED"


def test_an_api_the_form_skipped_adds_no_stream_and_is_not_checked(config, flameup, bem, http):
    built = config.with_bem().build()
    built["bem"]["replicate"] = "yes"
    built["flameup"] = {"replicate": "no"}

    assert run_check(built).connection_status_messages[0].connectionStatus.status.value == "SUCCEEDED"
    assert [s.name for s in run_discover(built).catalog.catalog.streams] == [BEM]
    assert not [r for r in http.request_history if "/workspaces/" in r.url]
    assert FLAMEUP not in str(run_discover(built).catalog)
