"""`check`'s fast path (source_events.quick_check): it answers SUCCEEDED without importing the CDK, sending the
request the CDK's check would send first; every other answer is the CDK's, with today's message, and the fast path
says nothing of it."""

import copy
import importlib
import json
import socket
import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from airbyte_cdk.models import Status
from airbyte_cdk.sources.declarative.interpolation.filters import filters as cdk_filters
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from jsonschema import Draft7Validator

from source_events import entrypoint, quick_check
from source_events import manifest as manifest_module
from source_events.check import CHECK_RETRIES
from source_events.common.errors import EventsErrorHandler
from source_events.config import read_settings
from source_events.emulator import BemApi, FlameupApi, FlameupBehaviour
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer, Fault
from source_events.manifest import connection_specification, with_spec_defaults
from testkit.builders import BEM_KEY, FLAMEUP_KEY, run_check
from testkit.cli import CliRun
from testkit.emulator import emulator_config, running_emulator

SUCCEEDED = [
    {"type": "LOG", "log": {"level": "INFO", "message": "Check succeeded"}},
    {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}},
]
# what the fast path leaves out: Flameup's time range needs a stream slice
SLICE_PARAMETERS = {"since", "until"}


def _write(tmp_path, config, name="config.json"):
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def _status(output):
    (message,) = output.connection_status_messages
    return message.connectionStatus


def _api(url):
    return "flameup" if "/workspaces/" in urlsplit(url).path else "bem"


def _sent(history):
    """Each API's requests in `history` (requests-mock's): (path, query, the auth header) each."""
    sent = {"flameup": [], "bem": []}
    for request in history:
        url = urlsplit(request.url)
        auth = request.headers.get("Authorization") if _api(request.url) == "flameup" else request.headers["x-api-key"]
        sent[_api(request.url)].append((url.path, parse_qs(url.query, keep_blank_values=True), auth))
    return sent


def _quick(tmp_path, config, capsys) -> tuple[bool, str]:
    answered = quick_check.quick_check(_write(tmp_path, config))
    return answered, capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------------------
# The request: the CDK's first, from the manifest's declarations
# ---------------------------------------------------------------------------------------------------------------

_FILTERS = {
    "none": ({}, {}),
    "flameup": ({"user_id": "user_123", "event": "signup"}, {}),
    # values the CDK reads as Python literals: a list is sent as a repeated parameter, a number stays the text
    "flameup_literals": ({"user_id": "['a', 'b']", "event": "1e3"}, {}),
    "bem": (
        {},
        {
            "event_types": ["transform", "error"],
            "function_names": ["invoice-extractor", "router"],
            "function_ids": ["f_1"],
            "call_ids": ["c_1", "c_2"],
            "reference_ids": ["order-1042"],
            "is_labelled": True,
        },
    ),
    "bem_not_labelled": ({}, {"is_labelled": False, "page_size": 20}),
    "flameup_page_size": ({"page_size": 50}, {}),
}


@pytest.mark.parametrize("flameup_filters, bem_filters", _FILTERS.values(), ids=_FILTERS)
def test_the_request_of_each_api_is_the_first_the_cdks_check_sends(
    tmp_path, capsys, config, http, flameup_filters, bem_filters
):
    cfg = config.with_flameup(**flameup_filters).with_bem(**bem_filters).build()

    assert _quick(tmp_path, cfg, capsys)[0] is True
    quick = _sent(http.request_history)
    seen = len(http.request_history)
    assert _status(run_check(cfg)).status == Status.SUCCEEDED
    cdk = _sent(http.request_history[seen:])

    for api in ("flameup", "bem"):
        ((path, query, auth),) = quick[api]  # one request an API
        cdk_path, cdk_query, cdk_auth = cdk[api][0]
        assert (path, auth) == (cdk_path, cdk_auth)
        expected = {name: values for name, values in cdk_query.items() if name not in SLICE_PARAMETERS}
        if api == "flameup" and "page_size" not in flameup_filters:
            # the page size is the connector's to find: the CDK's first look asks for the most, this one for one
            assert expected.pop("limit") == ["1000"] and query.pop("limit") == ["1"]
        assert query == expected
    assert quick["flameup"][0][2] == f"Bearer {FLAMEUP_KEY}" and quick["bem"][0][2] == BEM_KEY
    if flameup_filters.get("user_id") == "['a', 'b']":
        assert quick["flameup"][0][1]["user_id"] == ["a", "b"] and quick["flameup"][0][1]["event"] == ["1e3"]


def test_unset_filters_are_left_out_of_the_request_as_the_cdk_leaves_them(tmp_path, capsys, config, http):
    _quick(tmp_path, config.with_flameup(user_id="").with_bem(event_types=[]).build(), capsys)

    sent = _sent(http.request_history)
    assert set(sent["flameup"][0][1]) == {"limit", "offset"}
    assert set(sent["bem"][0][1]) == {"sortOrder", "limit"}


@pytest.mark.parametrize("which", ["flameup", "bem", "both"])
def test_it_asks_only_the_configured_apis(tmp_path, capsys, config, http, which):
    if which in ("flameup", "both"):
        config.with_flameup()
    if which in ("bem", "both"):
        config.with_bem()

    answered, printed = _quick(tmp_path, config.build(), capsys)

    assert answered is True
    assert [json.loads(line) for line in printed.splitlines()] == SUCCEEDED
    sent = _sent(http.request_history)
    assert {api: len(requests) for api, requests in sent.items()} == {
        "flameup": int(which != "bem"),
        "bem": int(which != "flameup"),
    }


def test_a_section_switched_off_is_not_asked(tmp_path, capsys, config, http):
    cfg = config.with_flameup().with_bem().build()
    cfg["bem"] = {"replicate": "no"}

    assert _quick(tmp_path, cfg, capsys)[0] is True
    assert len(_sent(http.request_history)["bem"]) == 0


def test_both_requests_go_out_at_once(tmp_path, capsys):
    """Each API answers only once the other's request has arrived: sent one after the other, neither would be."""
    both_arrived = threading.Barrier(2)
    apis = FlameupApi(WORKSPACE_ID, FLAMEUP_API_KEY, []), BemApi(BEM_API_KEY, [])
    # the emulator waits its latency before it answers: here, for the other request
    with EmulatorServer(*apis, latency_seconds=1, sleep=lambda _: both_arrived.wait(timeout=10)) as server:
        answered, _ = _quick(tmp_path, emulator_config(server, flameup={}, bem={}), capsys)

    assert answered is True
    assert not both_arrived.broken


def test_it_goes_through_the_proxy_the_environment_names(tmp_path, capsys, monkeypatch):
    """As requests (and so the CDK) does: here the only way to the API is the proxy."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = unused.getsockname()[1]
    with running_emulator() as server:
        cfg = emulator_config(server, flameup={}, bem={})
        for section, prefix in (("flameup", "/api/v1"), ("bem", "/v1-alpha")):
            cfg[section]["base_url"] = f"http://localhost:{closed}{prefix}"  # nothing listens there
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, server.base_url)  # the emulator answers absolute-form requests too

        answered, _ = _quick(tmp_path, cfg, capsys)

        assert answered is True
        assert server.requests_by_api == {"flameup": 1, "bem": 1}


# ---------------------------------------------------------------------------------------------------------------
# The CLI: SUCCEEDED without the CDK; any other answer is the CDK's
# ---------------------------------------------------------------------------------------------------------------


def test_the_cli_answers_a_successful_check_without_importing_the_cdk(tmp_path):
    with running_emulator() as server:
        path = _write(tmp_path, emulator_config(server, flameup={}, bem={}))
        result, imported = _ours("check", "--config", path)
        requests_by_api = dict(server.requests_by_api)

    assert result.returncode == 0
    assert [json.loads(line) for line in result.stdout.splitlines()] == SUCCEEDED
    assert "source_events.quick_check" in imported and _without_the_cdk(imported)
    assert requests_by_api == {"flameup": 1, "bem": 1}  # the CDK's check would have sent three
    assert FLAMEUP_KEY not in result.stdout + result.stderr and BEM_KEY not in result.stdout + result.stderr


def test_the_fast_path_imports_nothing_of_the_cdk_even_indirectly():
    probe = (
        "import sys\n"
        "import source_events.quick_check\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'airbyte_cdk'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)

    assert result.stdout.strip() == "[]"


# today's CLI before the fast paths: every protocol command through the CDK's entrypoint
_THROUGH_THE_CDK = "import sys\nfrom source_events.cdk_run import run\nrun(sys.argv[1:])\n"


def _ours(*args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`source-events ARGS`, and the modules it imported (`-X importtime`)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "source_events", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]


def _through_the_cdk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _THROUGH_THE_CDK, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _without_the_cdk(imported: list[str]) -> bool:
    return not [module for module in imported if module.split(".")[0] == "airbyte_cdk"]


def _both_checks(path) -> tuple[CliRun, CliRun]:
    """`source-events check` now, and today's check: the CDK's, as the entrypoint ran it before the fast path
    (side by side: the emulator's answers do not depend on the order of requests)."""
    commands = [
        [sys.executable, "-m", "source_events", "check", "--config", path],
        [sys.executable, "-c", _THROUGH_THE_CDK, "check", "--config", path],
    ]
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in commands]
    runs = []
    for process, command in zip(processes, commands, strict=True):
        stdout, stderr = process.communicate(timeout=120)
        runs.append(CliRun(subprocess.CompletedProcess(command, process.returncode, stdout, stderr)))
    return runs[0], runs[1]


def _without_nulls(config):
    """A setting overridden with None is left out (a missing setting)."""
    return {section: {k: v for k, v in values.items() if v is not None} for section, values in config.items()}


def _answer(run: CliRun) -> tuple:
    """What a check answers: its status, its error traces (message and failure type: the rest holds times and
    stack traces), and how many log lines of each level (they name request URLs with the current time)."""
    errors = [(e["message"], e["failure_type"]) for e in run.errors]
    levels = sorted(m["log"]["level"] for m in run.of_type("LOG"))
    return run.returncode, run.connection_status, errors, levels


_CLI_FAILURES = {
    "both_keys_wrong": {"flameup": {"api_key": "ws_test_wrong"}, "bem": {"api_key": "bem_wrong"}},
    "unknown_workspace": {"flameup": {"workspace_id": "ws_nope"}, "bem": {}},
    "page_size_out_of_bounds": {"flameup": {}, "bem": {"page_size": 500}},
    "missing_api_key": {"flameup": {"api_key": None}},
    "repeated_event_type": {"bem": {"event_types": ["error", "error"]}},  # only the spec's JSON Schema refuses it
    "misspelt_setting": {"flameup": {}, "bem": {"event_type": ["transform"]}},  # refused: it would read every type
}


@pytest.mark.parametrize("overrides", _CLI_FAILURES.values(), ids=_CLI_FAILURES)
def test_the_cli_gives_any_other_answer_as_the_cdks_check_gave_it(tmp_path, overrides):
    with running_emulator() as server:
        cfg = _without_nulls(emulator_config(server, **overrides))
        path = _write(tmp_path, cfg)

        ours, todays = _both_checks(path)

    assert _answer(ours) == _answer(todays)
    assert ours.connection_status["status"] == "FAILED"
    secrets = [FLAMEUP_KEY, BEM_KEY, *(section.get("api_key", "") for section in cfg.values())]
    assert not [secret for secret in secrets if secret and secret in ours.stdout + ours.stderr]


def test_an_unknown_setting_gets_the_cdks_warning_word_for_word_from_the_fast_path(tmp_path):
    with running_emulator() as server:
        path = _write(tmp_path, emulator_config(server, flameup={}, bem={"notes": "for the team"}))

        ours, todays = _both_checks(path)

    def warnings(run: CliRun) -> list[str]:
        return [m["log"]["message"] for m in run.of_type("LOG") if m["log"]["level"] == "WARN"]

    assert ours.connection_status == todays.connection_status == {"status": "SUCCEEDED"}
    assert warnings(ours) == warnings(todays) == ["Unknown setting `bem.notes` is ignored."]
    assert '{"type":"LOG","log":{"level":"WARN","message":"Unknown setting' in ours.stdout  # compact, as the CDK's
    # the fast path answered: the CDK's check logs each stream's first page, the fast path does not
    assert not [m for m in ours.of_type("LOG") if "the first page was read" in m["log"]["message"]]
    assert [m for m in todays.of_type("LOG") if "the first page was read" in m["log"]["message"]]


def test_spec_is_the_cdks_byte_for_byte_without_importing_the_cdk():
    ours, imported = _ours("spec")
    cdk = _through_the_cdk("spec")

    assert ours.returncode == cdk.returncode == 0
    assert ours.stdout == cdk.stdout and json.loads(ours.stdout)["type"] == "SPEC"
    assert "source_events.quick_check" in imported and _without_the_cdk(imported)


def test_the_cli_with_debug_runs_the_cdks_check(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(quick_check, "quick_check", lambda path: calls.append("quick") or True)
    monkeypatch.setattr("source_events.cdk_run.run", lambda args: calls.append("cdk"))

    entrypoint.main(["check", "--config", "c.json", "--debug"])
    entrypoint.main(["check", "--config", "c.json"])
    entrypoint.main(["discover", "--config", "c.json"])

    assert calls == ["cdk", "quick", "cdk"]


def test_the_cli_falls_back_when_the_fast_path_does_not_succeed(monkeypatch):
    calls = []
    monkeypatch.setattr(quick_check, "quick_check", lambda path: calls.append("quick") is not None)
    monkeypatch.setattr("source_events.cdk_run.run", lambda args: calls.append(("cdk", args)))

    entrypoint.main(["check", "--config", "c.json"])

    assert calls == ["quick", ("cdk", ["check", "--config", "c.json"])]


def test_the_platforms_debug_level_is_the_cdks_to_answer(tmp_path, capsys, config, http, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "debug")

    assert _quick(tmp_path, config.with_bem().build(), capsys) == (False, "")
    assert http.request_history == []


# ---------------------------------------------------------------------------------------------------------------
# Every failure: the fast path says nothing, and the CDK's check gives today's message
# ---------------------------------------------------------------------------------------------------------------


def _falls_back(tmp_path, capsys, cfg):
    """The fast path's answer (it must not answer) and then the CDK check's status, as the CLI gives them."""
    assert _quick(tmp_path, cfg, capsys) == (False, "")
    return _status(run_check(cfg))


_REFUSALS = [
    (
        "flameup_wrong_key",
        {"flameup": {"api_key": "ws_test_wrong"}, "bem": {}},
        "Flameup rejected the API key (401). Check `flameup.api_key`",
    ),
    ("bem_wrong_key", {"flameup": {}, "bem": {"api_key": "bem_wrong"}}, "bem rejected the API key (401)."),
    (
        "unknown_workspace",
        {"flameup": {"workspace_id": "ws_nope"}},
        "Flameup found no workspace `ws_nope` (404). Check `flameup.workspace_id`",
    ),
    ("bem_alone_wrong_key", {"bem": {"api_key": "bem_wrong"}}, "bem rejected the API key (401)."),
]


@pytest.mark.parametrize("overrides, expected", [(o, e) for _, o, e in _REFUSALS], ids=[n for n, _, _ in _REFUSALS])
def test_a_refused_request_falls_back_to_the_cdks_message(tmp_path, capsys, overrides, expected):
    with running_emulator() as server:
        status = _falls_back(tmp_path, capsys, emulator_config(server, **overrides))

    assert status.status == Status.FAILED
    assert status.message.startswith(expected)
    assert FLAMEUP_KEY not in status.message and BEM_KEY not in status.message


def test_a_page_size_flameup_refuses_falls_back_to_the_cdks_message(tmp_path, capsys):
    behaviour = FlameupBehaviour(limit_cap=100, limit_over_cap="reject")
    with running_emulator(flameup_behaviour=behaviour) as server:
        status = _falls_back(tmp_path, capsys, emulator_config(server, flameup={"page_size": 500}))
        received = [request.query["limit"] for request in server.received]

    assert status.status == Status.FAILED
    assert status.message.startswith("Flameup rejected `limit=500` (")
    assert "Lower `flameup.page_size`" in status.message
    assert received[0] == ["500"]  # the fast path asked for the configured size, and was refused


def test_a_server_error_falls_back_to_the_cdks_retries_and_message(tmp_path, capsys, clock):
    with running_emulator() as server:
        server.faults.append(Fault(kind="server_error", at_request=1, times=1000, api="bem"))
        status = _falls_back(tmp_path, capsys, emulator_config(server, flameup={}, bem={}))
        bem_requests = server.requests_by_api["bem"]

    assert status.status == Status.FAILED
    assert "The API is failing or unavailable (5xx): 127.0.0.1" in status.message
    assert "answered HTTP 500 to every try until the retries were spent" in status.message
    assert len(clock.retries) == bem_requests - 2 == CHECK_RETRIES  # the CDK path retried; the fast path asked once


@pytest.mark.parametrize("kind", ["server_error", "invalid_json", "html_body", "drop_connection"])
def test_a_passing_fault_falls_back_and_the_cdks_retry_succeeds(tmp_path, capsys, clock, kind):
    with running_emulator() as server:
        server.faults.append(Fault(kind=kind, at_request=1, api="flameup"))
        status = _falls_back(tmp_path, capsys, emulator_config(server, flameup={}, bem={}))

    assert status.status == Status.SUCCEEDED


def test_an_answer_slower_than_the_sections_timeout_falls_back(tmp_path, capsys, clock):
    with running_emulator() as server:
        server.faults.append(Fault(kind="stall_before_headers", at_request=1, api="bem", stall_seconds=30))
        cfg = emulator_config(server, bem={"request_timeout_seconds": 0.2})
        status = _falls_back(tmp_path, capsys, cfg)

    assert status.status == Status.SUCCEEDED  # the stall was the fast path's; the CDK's request was answered


def test_an_unreachable_api_falls_back_to_the_cdks_message(tmp_path, capsys):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again when the block ends: nothing listens there
    with running_emulator() as server:
        cfg = emulator_config(server, flameup={}, bem={"base_url": f"http://127.0.0.1:{port}/v1-alpha"})
        status = _falls_back(tmp_path, capsys, cfg)

    assert status.status == Status.FAILED
    assert status.message.startswith(f"Could not reach the bem API: 127.0.0.1:{port} refused the connection")


# (id, config overrides): the CLI's messages for these are the CDK path's (integration_tests/test_bad_input.py)
_INVALID = {
    "page_size_out_of_bounds": {"bem": {"page_size": 500}},
    "flameup_page_size_zero": {"flameup": {"page_size": 0}},
    "missing_api_key": {"bem": {"api_key": None}},
    "no_api": {},
    "bad_switch": {"bem": {"replicate": "maybe"}},
    "future_start": {"flameup": {"start_date": "2999-01-01"}},
    "http_to_a_public_host": {"bem": {"base_url": "http://example.com/v1-alpha"}},
    # our rules accept these; the spec's JSON Schema does not (uniqueItems, an item's minLength)
    "repeated_event_type": {"bem": {"event_types": ["error", "error"]}},
    "empty_function_name": {"bem": {"function_names": [""]}},
}


# what source_events.config's rules refuse: answered at once, as the CDK path answers them
_REFUSED_BY_OUR_RULES = (
    "page_size_out_of_bounds",
    "flameup_page_size_zero",
    "missing_api_key",
    "no_api",
    "future_start",
    "http_to_a_public_host",
    "bad_switch",
)


def _invalid(config, overrides):
    for section, values in overrides.items():
        config.with_flameup(**values) if section == "flameup" else config.with_bem(**values)
    return _without_nulls(config.build()) if overrides else {}


@pytest.mark.parametrize("name", [name for name in _INVALID if name not in _REFUSED_BY_OUR_RULES])
def test_a_config_only_the_spec_or_the_cdk_refuses_falls_back_before_any_request(tmp_path, capsys, http, config, name):
    assert _quick(tmp_path, _invalid(config, _INVALID[name]), capsys) == (False, "")
    assert http.request_history == []


@pytest.mark.parametrize("name", _REFUSED_BY_OUR_RULES)
def test_a_config_our_rules_refuse_is_answered_at_once_with_the_cdk_paths_line(tmp_path, capsys, http, config, name):
    path = _write(tmp_path, _invalid(config, _INVALID[name]))
    ours, imported = _ours("check", "--config", path)
    cdk = _through_the_cdk("check", "--config", path)

    assert ours.returncode == cdk.returncode == 0
    assert ours.stdout == cdk.stdout  # one CONNECTION_STATUS FAILED line naming the setting, byte for byte
    assert json.loads(ours.stdout)["connectionStatus"]["status"] == "FAILED"
    assert _without_the_cdk(imported)
    assert http.request_history == []


def test_the_spec_refuses_what_our_rules_accept_in_these_configs(config):
    """The last two invalid configs pass source_events.config's rules: only the JSON Schema check refuses them."""
    for name in ("repeated_event_type", "empty_function_name"):
        cfg = config.with_bem(**_INVALID[name]["bem"]).build()
        assert read_settings(with_spec_defaults(cfg)).bem is not None
        assert not Draft7Validator(connection_specification()).is_valid(with_spec_defaults(cfg))


def test_a_config_file_that_is_not_an_object_falls_back(tmp_path, capsys):
    for text in ("[1, 2]", "{not json", ""):
        path = tmp_path / "config.json"
        path.write_text(text)
        assert quick_check.quick_check(str(path)) is False
    assert quick_check.quick_check(str(tmp_path / "missing.json")) is False
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------------------------------------------
# What the fast path does not read as the CDK would: it leaves it to the CDK
# ---------------------------------------------------------------------------------------------------------------


def _with_manifest(monkeypatch, change):
    declared = copy.deepcopy(manifest_module.manifest())
    change(declared["definitions"])
    monkeypatch.setattr(manifest_module, "manifest", lambda: declared)


_UNREADABLE = {
    "another_authenticator": lambda d: d["bem_authenticator"].update(type="BasicHttpAuthenticator"),
    "a_query_parameter_key": lambda d: d["bem_authenticator"]["inject_into"].update(inject_into="request_parameter"),
    "a_reference_that_does_not_resolve": lambda d: d["flameup_requester"]["authenticator"].update(
        {"$ref": "#/definitions/nowhere"}
    ),
    "a_cdk_filter": lambda d: d["bem_requester"]["request_parameters"].update(x="{{ config['bem'] | string }}"),
    "a_cdk_macro": lambda d: d["bem_requester"]["request_parameters"].update(x="{{ now_utc() }}"),
    "another_variable": lambda d: d["bem_requester"]["request_parameters"].update(x="{{ parameters['name'] }}"),
    "a_request_header": lambda d: d["bem_requester"].update(request_headers={"X-A": "b"}),
    "a_post": lambda d: d["bem_requester"].update(http_method="POST"),
    "another_error_handler": lambda d: d["flameup_error_handler"].update(class_name="elsewhere.Handler"),
    "a_template_error": lambda d: d["bem_requester"].update(url="{{ config['bem']['base_url'] ~ }}"),
}


@pytest.mark.parametrize("change", _UNREADABLE.values(), ids=_UNREADABLE)
def test_a_declaration_it_cannot_read_as_the_cdk_would_falls_back(tmp_path, capsys, config, http, monkeypatch, change):
    _with_manifest(monkeypatch, change)

    assert _quick(tmp_path, config.with_flameup().with_bem().build(), capsys) == (False, "")
    assert http.request_history == []


def test_references_resolve_as_the_cdk_resolves_them():
    declared = {
        "definitions": {
            "base": {"type": "A", "keep": 1, "over": 1},
            "alias": "#/definitions/base",
            "child": {"$ref": "#/definitions/alias", "over": 2},
        }
    }

    assert quick_check._resolved(declared["definitions"]["child"], declared) == {"type": "A", "keep": 1, "over": 2}
    with pytest.raises(quick_check.Unreadable):
        quick_check._resolved({"$ref": "#/definitions/loop"}, {"definitions": {"loop": {"$ref": "#/definitions/loop"}}})


def test_the_cdks_filters_are_the_ones_the_fast_path_does_not_render():
    assert set(cdk_filters) == quick_check.CDK_FILTERS


@pytest.mark.parametrize("class_name", sorted(quick_check.EVENTS_ERROR_HANDLERS))
def test_the_error_handlers_it_reads_take_a_200_events_page_for_a_success(class_name):
    module_name, name = class_name.rsplit(".", 1)
    handler_class = getattr(importlib.import_module(module_name), name)

    handler = handler_class(config={}, parameters={}, api="x", section="x")

    def answer(body: bytes) -> ResponseAction:
        response = requests.Response()
        response.status_code, response._content = 200, body
        return handler.interpret_response(response).response_action

    assert issubclass(handler_class, EventsErrorHandler)
    assert answer(b'{"events": [], "total": 0}') == ResponseAction.SUCCESS
    assert answer(b'{"data": []}') == answer(b"<html>") == ResponseAction.RETRY
