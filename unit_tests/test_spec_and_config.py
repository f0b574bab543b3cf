"""The spec the Airbyte UI renders, and config validation: every bad setting is named, no value is echoed."""

import json
import logging
import subprocess
import sys

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events import SourceEvents
from source_events.config import parse_config
from source_events.manifest import connection_specification, with_spec_defaults
from testkit.builders import BEM_KEY, FLAMEUP_KEY


def _spec():
    return SourceEvents().spec(logging.getLogger("test")).connectionSpecification


def _fields():
    # each API's section is a choice between replicating and skipping it (unit_tests/test_spec_form.py)
    for section_name, section in _spec()["properties"].items():
        for choice in section["oneOf"]:
            for name, field in choice["properties"].items():
                yield f"{section_name}.{name} ({choice['title']})", field


@pytest.mark.parametrize("name, field", list(_fields()), ids=[name for name, _ in _fields()])
def test_every_spec_field_has_title_description_and_order_and_every_setting_examples(name, field):
    assert field.get("title") and field.get("description") and "order" in field
    assert field.get("examples") or "const" in field


def test_api_keys_are_secret_and_the_sections_are_optional():
    spec = _spec()
    assert spec["properties"]["flameup"]["oneOf"][0]["properties"]["api_key"]["airbyte_secret"] is True
    assert spec["properties"]["bem"]["oneOf"][0]["properties"]["api_key"]["airbyte_secret"] is True
    assert "required" not in spec


def test_field_order_is_unique_within_each_choice():
    for section in _spec()["properties"].values():
        for choice in section["oneOf"]:
            orders = [field["order"] for field in choice["properties"].values()]
            assert len(orders) == len(set(orders))


_GOOD_FLAMEUP = {"api_key": FLAMEUP_KEY, "workspace_id": "w", "start_date": "2024-01-01T00:00:00Z"}
_GOOD_BEM = {"api_key": BEM_KEY}

_BAD_CONFIGS = [
    ("neither_api", {}, "configure at least one API"),
    (
        "required_setting_misspelt",
        {"flameup": {**{k: v for k, v in _GOOD_FLAMEUP.items() if k != "start_date"}, "startdate": "2024-01-01"}},
        "`flameup.start_date` is required; `flameup.startdate` looks like it: rename it to `start_date`",
    ),
    ("null_sections", {"flameup": None, "bem": None}, "`flameup` is null: leave the setting out"),
    ("section_not_an_object", {"flameup": "ws_live_key"}, "`flameup` should be a JSON object of its settings."),
    (
        "null_filter",  # JSON null is no unset: the spec (and the CDK's check of it) types no setting as null
        {"flameup": {**_GOOD_FLAMEUP, "user_id": None}},
        "`flameup.user_id` is null: leave the setting out to leave it unset",
    ),
    ("flameup_key_missing", {"flameup": {**_GOOD_FLAMEUP, "api_key": None}}, "`flameup.api_key`"),
    ("flameup_key_blank", {"flameup": {**_GOOD_FLAMEUP, "api_key": "  "}}, "`flameup.api_key` is empty"),
    ("workspace_empty", {"flameup": {**_GOOD_FLAMEUP, "workspace_id": ""}}, "`flameup.workspace_id` is empty"),
    ("workspace_blank", {"flameup": {**_GOOD_FLAMEUP, "workspace_id": "  "}}, "`flameup.workspace_id` is empty"),
    (
        "workspace_missing",
        {"flameup": {k: v for k, v in _GOOD_FLAMEUP.items() if k != "workspace_id"}},
        "`flameup.workspace_id` is required",
    ),
    (
        "start_date_unparseable",
        {"flameup": {**_GOOD_FLAMEUP, "start_date": "last tuesday"}},
        "`flameup.start_date` 'last tuesday' is not a date or date-time: use 2024-01-01",
    ),
    (
        "start_date_future",
        {"flameup": {**_GOOD_FLAMEUP, "start_date": "2999-01-01T00:00:00Z"}},
        "`flameup.start_date` '2999-01-01T00:00:00Z' is in the future",
    ),
    (
        "flameup_page_size_zero",
        {"flameup": {**_GOOD_FLAMEUP, "page_size": 0}},
        "`flameup.page_size` should be greater than or equal to 1",
    ),
    (
        "lookback_negative",
        {"flameup": {**_GOOD_FLAMEUP, "lookback_window_minutes": -1}},
        "`flameup.lookback_window_minutes`",
    ),
    (
        "flameup_http_public",
        {"flameup": {**_GOOD_FLAMEUP, "base_url": "http://api.flameup.ai/api/v1"}},
        "`flameup.base_url` must use HTTPS",
    ),
    ("bem_key_missing", {"bem": {}}, "`bem.api_key` is required"),
    ("bem_replicate_unknown", {"bem": {**_GOOD_BEM, "replicate": "maybe"}}, '`bem.replicate` must be "yes" or "no"'),
    ("both_skipped", {"flameup": {"replicate": "no"}, "bem": {"replicate": "no"}}, "configure at least one API"),
    (
        "bem_page_size_101",
        {"bem": {**_GOOD_BEM, "page_size": 101}},
        "`bem.page_size` should be less than or equal to 100",
    ),
    (
        "bem_page_size_zero",
        {"bem": {**_GOOD_BEM, "page_size": 0}},
        "`bem.page_size` should be greater than or equal to 1",
    ),
    ("bem_unknown_event_type", {"bem": {**_GOOD_BEM, "event_types": ["transfrom"]}}, "`bem.event_types[0]`"),
    (
        "bem_key_with_a_line_break",
        {"bem": {**_GOOD_BEM, "api_key": "bem_key\n"}},
        "`bem.api_key` contains a line break or another control character",
    ),
    (
        "flameup_key_with_its_scheme",
        {"flameup": {**_GOOD_FLAMEUP, "api_key": f"Bearer {FLAMEUP_KEY}"}},
        "`flameup.api_key` starts with 'Bearer ': paste the key alone",
    ),
    (
        "bem_key_with_a_leading_space",
        {"bem": {**_GOOD_BEM, "api_key": f" {BEM_KEY}"}},
        "`bem.api_key` starts or ends with a space: paste the key alone",
    ),
    (
        "flameup_key_with_a_trailing_space",
        {"flameup": {**_GOOD_FLAMEUP, "api_key": f"{FLAMEUP_KEY} "}},
        "`flameup.api_key` starts or ends with a space",
    ),
    (
        "flameup_key_in_typographic_quotes",
        {"flameup": {**_GOOD_FLAMEUP, "api_key": f"\u201c{FLAMEUP_KEY}\u201d"}},
        "`flameup.api_key` contains a character that is not ASCII",
    ),
    (
        "bem_key_in_ascii_quotes",
        {"bem": {**_GOOD_BEM, "api_key": f'"{BEM_KEY}"'}},
        "`bem.api_key` is wrapped in quotes: paste the key alone, without them",
    ),
    (
        "flameup_key_in_single_quotes",
        {"flameup": {**_GOOD_FLAMEUP, "api_key": f"'{FLAMEUP_KEY}'"}},
        "`flameup.api_key` is wrapped in quotes",
    ),
    (
        "flameup_workspace_with_a_trailing_space",
        {"flameup": {**_GOOD_FLAMEUP, "workspace_id": "ws_1 "}},
        "`flameup.workspace_id` 'ws_1' has a space before or after it",
    ),
    (
        "bem_key_with_a_scheme",
        {"bem": {**_GOOD_BEM, "api_key": f"token {BEM_KEY}"}},
        "`bem.api_key` starts with 'token ': paste the key alone",
    ),
    (
        "bem_page_size_as_a_string",
        {"bem": {**_GOOD_BEM, "page_size": "100"}},
        "`bem.page_size` should be a valid integer",
    ),
    (
        "bem_is_labelled_as_a_string",
        {"bem": {**_GOOD_BEM, "is_labelled": "true"}},
        "`bem.is_labelled` should be a valid boolean",
    ),
    (
        "bem_not_a_url",
        {"bem": {**_GOOD_BEM, "base_url": "api.bem.ai"}},
        "`bem.base_url` must be an absolute http(s) URL",
    ),
    (
        "bem_http_public",
        {"bem": {**_GOOD_BEM, "base_url": "http://10.0.0.8/v1-alpha"}},
        "`bem.base_url` must use HTTPS",
    ),
    (
        "bem_http_loopback_misspelt",  # the host is named: the typo is what to fix, not the scheme
        {"bem": {**_GOOD_BEM, "base_url": "http://127.0.0.l:39389/v1-alpha"}},
        "`bem.base_url` must use HTTPS: its host `127.0.0.l` is not local",
    ),
    (
        "bem_credentials_in_url",  # messages and the CDK's request lines print the URL (adversary review)
        {"bem": {**_GOOD_BEM, "base_url": "https://user:S3CRET@api.bem.ai/v1-alpha"}},
        "`bem.base_url` must not hold credentials (`user:password@`): the API key goes in `api_key`",
    ),
]


@pytest.mark.parametrize("config, expected", [(c, e) for _, c, e in _BAD_CONFIGS], ids=[n for n, _, _ in _BAD_CONFIGS])
def test_a_bad_config_is_rejected_with_the_setting_to_fix(config, expected):
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(config)

    assert expected in raised.value.message
    assert raised.value.failure_type.value == "config_error"
    assert FLAMEUP_KEY not in raised.value.message and BEM_KEY not in raised.value.message


@pytest.mark.parametrize(
    "section, name",
    [("flameup", "requests_per_minute"), ("flameup", "lookback_window_minutes"), ("bem", "page_size")],
)
def test_a_null_setting_that_has_a_default_is_refused_not_defaulted(section, name):
    good = {"flameup": _GOOD_FLAMEUP, "bem": _GOOD_BEM}[section]

    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(with_spec_defaults({section: {**good, name: None}}))  # as the source reads a config

    assert f"`{section}.{name}` is null: leave the setting out to leave it unset" in raised.value.message


@pytest.mark.parametrize(
    "section, misspelt, meant",
    [
        ("bem", "event_type", "event_types"),  # ignored, every event type would be read
        ("flameup", "requests_per_minut", "requests_per_minute"),  # ignored, the default pace
        ("flameup", "lookback_window_minuts", "lookback_window_minutes"),  # ignored, the default lookback
    ],
)
def test_a_misspelt_setting_is_a_config_error_naming_the_setting_meant(section, misspelt, meant):
    """Ignored, it would change what is synced without a word (0.5.7 warned and synced)."""
    config = with_spec_defaults({"flameup": {**_GOOD_FLAMEUP}, "bem": {**_GOOD_BEM}})
    config[section][misspelt] = ["transform"] if misspelt == "event_type" else 30

    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(config)

    assert raised.value.message == (
        f"Invalid configuration: `{section}.{misspelt}` is no setting of this connector (did you mean `{section}.{meant}`?)."
    )
    assert raised.value.failure_type == FailureType.config_error


def test_an_unknown_setting_like_no_setting_of_its_section_is_named_in_a_warning(caplog):
    """Maybe a setting a later version reads: named, and the sync goes on. Each parse names it: the source parses its
    config once a command (integration_tests/test_cli.py)."""
    config = with_spec_defaults({"flameup": {**_GOOD_FLAMEUP, "notes": "for the team"}, "bem": {**_GOOD_BEM}})

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        parse_config(config)

    warnings = [r.getMessage() for r in caplog.records if "Unknown setting" in r.getMessage()]
    assert warnings == ["Unknown setting `flameup.notes` is ignored."]


@pytest.mark.parametrize("misspelt, meant", [("flamup", "flameup"), ("Flameup", "flameup"), ("bem_", "bem")])
def test_a_misspelt_section_is_a_config_error_naming_the_section_meant(misspelt, meant):
    """Ignored, it would leave its API out without a word: `check` succeeding, the stream missing from discover."""
    config = {"bem": _GOOD_BEM} if meant == "flameup" else {"flameup": _GOOD_FLAMEUP}
    config[misspelt] = _GOOD_FLAMEUP if meant == "flameup" else _GOOD_BEM

    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(with_spec_defaults(config))

    assert f"`{misspelt}` is no section of this connector: did you mean `{meant}`?" in raised.value.message
    assert raised.value.failure_type == FailureType.config_error


@pytest.mark.parametrize(
    "base_url",
    [
        "http://localhost:8080/api/v1",
        "http://127.0.0.1:9/api/v1",
        "http://[::1]:9/x",
        "https://proxy.example.com/flameup/",
    ],
)
def test_https_or_loopback_base_urls_are_accepted(base_url):
    assert parse_config({"flameup": {**_GOOD_FLAMEUP, "base_url": base_url}}).flameup.base_url == base_url.rstrip("/")


def test_either_api_alone_is_a_valid_config():
    assert parse_config({"flameup": _GOOD_FLAMEUP}).bem is None
    assert parse_config({"bem": _GOOD_BEM}).flameup is None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "source_events", *args], capture_output=True, text=True, timeout=120)


def test_cli_check_reports_a_bad_config_as_a_failed_connection_status(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"flameup": {**_GOOD_FLAMEUP, "page_size": 0}}))

    result = _cli("check", "--config", str(config))

    messages = [json.loads(line) for line in result.stdout.splitlines()]
    status = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    assert status == [
        {
            "status": "FAILED",
            "message": "Invalid configuration: `flameup.page_size` should be greater than or equal to 1.",
        }
    ]
    assert FLAMEUP_KEY not in result.stdout + result.stderr


def test_cli_discover_reports_a_bad_config_as_a_config_error_trace(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"bem": {**_GOOD_BEM, "base_url": "http://example.com"}}))

    result = _cli("discover", "--config", str(config))

    traces = [json.loads(line)["trace"] for line in result.stdout.splitlines() if '"TRACE"' in line]
    assert result.returncode == 1
    assert [t["error"]["failure_type"] for t in traces] == ["config_error"]
    assert "`bem.base_url` must use HTTPS" in traces[0]["error"]["message"]
    assert BEM_KEY not in result.stdout + result.stderr


def test_cli_spec_prints_only_protocol_messages():
    result = _cli("spec")

    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0
    assert {m["type"] for m in messages} <= {"SPEC", "LOG", "TRACE"}
    assert [m["spec"]["connectionSpecification"]["title"] for m in messages if m["type"] == "SPEC"] == [
        "Events Source Spec"
    ]


def test_the_secret_filter_masks_a_key_also_where_a_message_escapes_it():
    """Messages are masked once serialized: a key with a quote or a backslash appears escaped there."""
    from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, update_secrets

    from source_events.cdk_run import EventsEntrypoint

    key = 'bem"key\\with\\escapes'
    try:
        EventsEntrypoint.set_up_secret_filter({"bem": {"api_key": key}}, connection_specification())
        masked = filter_secrets(json.dumps({"message": f"header x-api-key: {key}"}))
    finally:
        update_secrets([])

    assert json.dumps(key)[1:-1] not in masked and "with" not in masked
    assert json.loads(masked) == {"message": "header x-api-key: ****"}


def test_a_setting_written_at_the_top_level_is_named_with_the_section_it_belongs_to(caplog):
    """Other Airbyte connectors keep `start_date` at the top level: here it belongs under `flameup`."""
    flameup = {key: value for key, value in _GOOD_FLAMEUP.items() if key != "start_date"}
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config({"flameup": flameup, "start_date": _GOOD_FLAMEUP["start_date"]})
    assert "`flameup.start_date` is required; it is set at the top level: move it under `flameup`" in (
        raised.value.message
    )

    with pytest.raises(AirbyteTracedException) as raised:
        parse_config(with_spec_defaults({"flameup": _GOOD_FLAMEUP, "page_size": 50, "requests_per_minute": 60}))
    assert raised.value.message == (
        "Invalid configuration: `page_size` is set at the top level: move it under `flameup` or `bem`; "
        "`requests_per_minute` is set at the top level: move it under `flameup`."
    )

    # a flat config, as single-API connectors take it: no section, its settings named with theirs (fresh-clone review)
    with pytest.raises(AirbyteTracedException) as raised:
        parse_config({"api_key": "k", "workspace_id": "ws", "start_date": "2024-01-01", "colour": "blue"})
    assert raised.value.message == (
        "Invalid configuration: configure at least one API: add a `flameup` section, a `bem` section, or both; "
        "`api_key` is set at the top level: move it under `flameup` or `bem`; `start_date` is set at the top level: "
        "move it under `flameup`; `workspace_id` is set at the top level: move it under `flameup`."
    )

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        parse_config(with_spec_defaults({"flameup": _GOOD_FLAMEUP, "colour": "blue"}))
    warnings = [r.getMessage() for r in caplog.records if "Unknown setting" in r.getMessage()]
    assert warnings == ["Unknown setting `colour` at the top level is ignored: settings go under `flameup` or `bem`."]
