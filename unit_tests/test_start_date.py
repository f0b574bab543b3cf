"""`flameup.start_date`: a date alone is midnight UTC; anything else malformed is one line naming the setting.

The spec's JSON Schema (what the Airbyte UI and the CDK check) and source_events.config (what names the
setting) must accept and refuse the same values. A date-only value must work through the CDK's own
entrypoint too, whose JSON Schema check runs before any code of this connector.
"""

import logging
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
import yaml
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events import SourceEvents
from source_events.config import START_DATE_PATTERN, parse_config
from testkit.builders import FLAMEUP, FLAMEUP_KEY, a_flameup_event, catalog, run_check, run_discover, run_read

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "source_events" / "manifest.yaml").read_text())
SPEC = MANIFEST["spec"]["connection_specification"]
START_DATE_SPEC = SPEC["properties"]["flameup"]["oneOf"][0]["properties"]["start_date"]

ACCEPTED = {
    "2024-01-01": datetime(2024, 1, 1, tzinfo=timezone.utc),
    "2024-01-01T00:00:00Z": datetime(2024, 1, 1, tzinfo=timezone.utc),
    "2024-01-01T10:20:30.5Z": datetime(2024, 1, 1, 10, 20, 30, 500000, tzinfo=timezone.utc),
    "2024-01-01T10:20:30.123456789Z": datetime(2024, 1, 1, 10, 20, 30, 123456, tzinfo=timezone.utc),
    "2024-01-01T02:00:00+02:00": datetime(2024, 1, 1, tzinfo=timezone.utc),
    "2023-12-31T19:00:00-05:00": datetime(2024, 1, 1, tzinfo=timezone.utc),
}
# (value, what the one-line message says after the setting's name)
REFUSED = [
    ("01/02/2024", "'01/02/2024' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
    ("20240101", "'20240101' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
    ("2024-1-1", "'2024-1-1' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
    ("", "'' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
    ("yesterday", "'yesterday' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
    (
        "2024-01-01T00:00:00+0100",
        "'2024-01-01T00:00:00+0100' is not a date or date-time: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z",
    ),
    ("2024-01-01T10:00:00", "'2024-01-01T10:00:00' has no time zone: add one, e.g. 2024-01-01T10:00:00Z for UTC"),
    ("2024-01-01T10:00", "'2024-01-01T10:00' has no time zone: add one, e.g. 2024-01-01T10:00:00Z for UTC"),
    ("2024-01-01 10:00:00", "'2024-01-01 10:00:00' has no time zone: add one, e.g. 2024-01-01T10:00:00Z for UTC"),
    # a fraction of 1 digit: Python 3.10's datetime.fromisoformat cannot read it, the message is the same there
    ("2024-01-01T10:00:00.5", "'2024-01-01T10:00:00.5' has no time zone: add one, e.g. 2024-01-01T10:00:00Z for UTC"),
    (20240101, "must be a date or date-time string: use 2024-01-01 (midnight UTC) or 2024-01-01T00:00:00Z"),
]
# the right shape for the spec's pattern, but no such day: only the config check can refuse these
NO_SUCH_DAY = ["2024-02-30", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z"]


def _config(start_date) -> dict:
    return {"flameup": {"api_key": FLAMEUP_KEY, "workspace_id": "w", "start_date": start_date}}


def _schema_accepts(config: dict) -> bool:
    try:
        jsonschema.validate(config, SPEC)  # as the CDK's entrypoint does (no format checker)
    except jsonschema.ValidationError:
        return False
    return True


def test_the_spec_pattern_is_the_one_the_config_checks_and_says_so():
    assert START_DATE_SPEC["pattern"] == START_DATE_PATTERN
    assert START_DATE_SPEC["pattern_descriptor"] == "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ"
    # the Airbyte form's date picker; JSON Schema's date-time format is RFC 3339, which a date alone is not,
    # so the CDK's check (no format checker, like _schema_accepts) rests on the pattern
    assert START_DATE_SPEC["format"] == "date-time"
    assert "midnight UTC" in START_DATE_SPEC["description"]
    assert all(_schema_accepts(_config(example)) for example in START_DATE_SPEC["examples"])
    assert "2024-01-01" in START_DATE_SPEC["examples"]


@pytest.mark.parametrize("value, expected", ACCEPTED.items(), ids=list(ACCEPTED))
def test_the_spec_and_the_config_accept_a_date_or_a_date_time_with_a_zone(value, expected):
    assert _schema_accepts(_config(value))
    assert parse_config(_config(value)).flameup.start_date == expected


@pytest.mark.parametrize("value, problem", REFUSED, ids=[str(v) for v, _ in REFUSED])
def test_the_spec_and_the_config_refuse_the_rest_in_one_line_naming_the_setting(value, problem):
    assert not _schema_accepts(_config(value))
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(_config(value))

    assert raised.value.message == f"Invalid configuration: `flameup.start_date` {problem}."
    assert raised.value.failure_type.value == "config_error"


@pytest.mark.parametrize("value", NO_SUCH_DAY)
def test_a_day_that_does_not_exist_is_named_by_the_config_check(value):
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(_config(value))

    assert f"`flameup.start_date` {value!r} is not a date or date-time: use 2024-01-01" in raised.value.message


def test_the_spec_the_cdk_reports_is_the_manifests():
    spec = SourceEvents().spec(logging.getLogger("test")).connectionSpecification
    assert spec["properties"]["flameup"]["oneOf"][0]["properties"]["start_date"] == START_DATE_SPEC


def test_a_date_only_start_date_works_through_the_cdks_own_entrypoint(config, flameup, http):
    flameup.events = [
        a_flameup_event("2026-09-30T23:59:59.999999Z"),
        a_flameup_event("2026-10-01T00:00:00Z"),
        a_flameup_event("2026-10-02T08:00:00Z"),
    ]
    date_only = config.with_flameup(start_date="2026-10-01").build()

    assert run_check(date_only).connection_status_messages[0].connectionStatus.status.value == "SUCCEEDED"
    assert [s.name for s in run_discover(date_only).catalog.catalog.streams] == [FLAMEUP]
    output = run_read(date_only, catalog(FLAMEUP))

    assert not output.errors
    # from midnight UTC on (the API is asked from a second earlier, and what it returns is never dropped)
    assert sorted(m.record.data["timestamp"] for m in output.records)[-2:] == [
        "2026-10-01T00:00:00Z",
        "2026-10-02T08:00:00Z",
    ]
    assert all(m.record.data["timestamp"] >= "2026-09-30T23:59:59" for m in output.records)


def test_a_malformed_start_date_is_refused_before_any_request_through_the_cdks_own_entrypoint(config, http):
    """The CDK's entrypoint checks the spec's JSON Schema before any code of this connector runs, so its
    message is the CDK's; source-events (source_events.cdk_run) names the setting (integration_tests)."""
    malformed = config.with_flameup(start_date="01/02/2024").build()

    status = run_check(malformed).connection_status_messages[0].connectionStatus
    discovered = run_discover(malformed, expect_failure=True)

    assert status.status.value == "FAILED" and "'01/02/2024'" in status.message
    assert [e.trace.error.failure_type.value for e in discovered.errors] == ["config_error"]
    assert http.request_history == []
