"""`check` sends one cheap request per configured API and names the setting to fix; `discover` lists
only the configured streams, each with its primary key, cursor and both sync modes."""

import socket

import pytest
from airbyte_cdk.models import Status, SyncMode

from source_events.check import CHECK_RETRIES, CHECK_RETRY_SECONDS
from source_events.emulator.responses import ApiResponse
from source_events.emulator.server import PRIMARY_KEYS
from testkit.builders import (
    BEM,
    BEM_KEY,
    FLAMEUP,
    FLAMEUP_KEY,
    ConfigBuilder,
    catalog,
    run_check,
    run_discover,
    run_read,
)


def _status(output):
    (message,) = output.connection_status_messages
    return message.connectionStatus


def _requests_by_api(http) -> dict[str, int]:
    counts = {"flameup": 0, "bem": 0}
    for request in http.request_history:
        counts["flameup" if "/workspaces/" in request.url else "bem"] += 1
    return counts


# Flameup: the first look that settles the page size, whose answer the stream's first page takes (a range read as one
# window asks the very same first: source_events.flameup.retriever keeps it; 0.5.3 asked it again); bem: its first
# page
_CHECK_REQUESTS = {"flameup": 1, "bem": 1}


def test_check_succeeds_with_a_page_or_two_per_configured_api(config, http):
    output = run_check(config.with_flameup().with_bem().build())

    assert _status(output).status == Status.SUCCEEDED
    assert _requests_by_api(http) == _CHECK_REQUESTS


@pytest.mark.parametrize("which", ["flameup", "bem"])
def test_check_needs_only_the_configured_api(config, http, which):
    builder = config.with_flameup() if which == "flameup" else config.with_bem()

    assert _status(run_check(builder.build())).status == Status.SUCCEEDED
    assert _requests_by_api(http) == {api: n if api == which else 0 for api, n in _CHECK_REQUESTS.items()}


def _answering(api, status, body):
    api.list_events = lambda path, query, headers: ApiResponse(status, body)


_FLAMEUP_ERROR = {"error": {"code": "x", "message": "Invalid or missing API key"}}
_CASES = [
    ("flameup", 401, _FLAMEUP_ERROR, "Flameup rejected the API key (401). Check `flameup.api_key`"),
    (
        "flameup",
        403,
        _FLAMEUP_ERROR,
        "Flameup refused access (403). The key in `flameup.api_key` lacks the events read/list permission",
    ),
    ("flameup", 404, _FLAMEUP_ERROR, "Flameup found no workspace `ws_demo` (404). Check `flameup.workspace_id`"),
    (
        "flameup",
        422,
        {"error": {"code": "bad", "message": "since must be before until"}},
        "Flameup rejected the request (since must be before until)",
    ),
    ("bem", 401, {"message": "Unauthorized"}, "bem rejected the API key (401). Check `bem.api_key`"),
    ("bem", 403, {"message": "Forbidden"}, "bem refused access (403). The key in `bem.api_key`"),
    (
        "bem",
        422,
        {"message": "limit must be between 1 and 100"},
        "bem rejected the request (limit must be between 1 and 100)",
    ),
]


@pytest.mark.parametrize("api, status, body, expected", _CASES, ids=[f"{a}-{s}" for a, s, _, _ in _CASES])
def test_check_fails_with_the_setting_to_fix_after_one_request(config, http, flameup, bem, api, status, body, expected):
    _answering(flameup if api == "flameup" else bem, status, body)
    builder = config.with_flameup() if api == "flameup" else config.with_bem()

    output = run_check(builder.build())

    assert _status(output).status == Status.FAILED
    assert _status(output).message.startswith(expected)
    assert len(http.request_history) == 1
    printed = "\n".join(str(m) for m in output.get_message_iterator())
    assert FLAMEUP_KEY not in printed and BEM_KEY not in printed
    # the failure is said once, naming the setting: not also as the HTTP client's line with the response's headers
    errors = [m.log.message for m in output.logs if m.log.level.value == "ERROR"]
    assert not [line for line in errors if " request to '" in line], errors


@pytest.mark.parametrize("api, status, body, expected", _CASES, ids=[f"{a}-{s}" for a, s, _, _ in _CASES])
def test_a_read_the_api_refuses_ends_on_the_line_naming_the_setting(
    config, http, flameup, bem, api, status, body, expected
):
    _answering(flameup if api == "flameup" else bem, status, body)
    builder = config.with_flameup() if api == "flameup" else config.with_bem()

    output = run_read(builder.build(), catalog(FLAMEUP if api == "flameup" else BEM), expect_failure=True)

    # the CDK's closing line names each failed stream's exception: ours says what to fix (0.5.12: the failed
    # request in full, its URL and the response's headers and body)
    closing = [m.log.message for m in output.logs if "did not sync successfully" in m.log.message]
    assert closing and all(expected in line and " request to '" not in line for line in closing), closing


@pytest.mark.parametrize("status", [503, 500])
@pytest.mark.parametrize("api", ["flameup", "bem"])
def test_check_reports_an_api_that_keeps_failing_after_a_few_retries_not_a_syncs_budget(
    config, http, flameup, bem, clock, api, status
):
    """The user waits for `check` in the Airbyte form: against an API answering 5xx to every request, 0.5.16 retried
    as a sync does (6 times, 2 min 46 s measured) and then said "Exhausted available request attempts. Please see
    logs for more details. Exception: The API is failing or unavailable (5xx); retrying with backoff." It now
    retries CHECK_RETRIES times within CHECK_RETRY_SECONDS and says what the API answered, without a traceback."""
    _answering(flameup if api == "flameup" else bem, status, {"error": {"code": "unavailable", "message": "down"}})
    builder = config.with_flameup() if api == "flameup" else config.with_bem()

    output = run_check(builder.build())

    message = _status(output).message
    assert _status(output).status == Status.FAILED
    assert f"answered HTTP {status} to every try until the retries were spent" in message, message
    name = "Flameup" if api == "flameup" else "bem"
    assert message.startswith(f"{name}: The API is failing or unavailable (5xx): "), message
    assert f"`{api}.base_url`" in message
    assert len(clock.retries) == CHECK_RETRIES and sum(clock.retries) <= CHECK_RETRY_SECONDS, clock.retries
    assert len(http.request_history) == 1 + CHECK_RETRIES  # the first request and its retries
    printed = "\n".join(str(m) for m in output.get_message_iterator())
    assert "Traceback" not in printed and FLAMEUP_KEY not in printed and BEM_KEY not in printed


def test_check_does_not_sit_through_a_wait_the_api_names_beyond_its_budget(config, http, flameup, clock):
    """A 429 naming `Retry-After: 60`: a sync waits that long (up to 10 minutes), `check` says so at once instead of
    holding the form (adversary review of 0.5.17's first version: 122 s with both APIs), and a rate limit gets no
    hint about `base_url`."""
    flameup.list_events = lambda path, query, headers: ApiResponse(
        429, {"error": "Rate limit exceeded"}, headers={"Retry-After": "60"}
    )

    output = run_check(config.with_flameup().build())

    message = _status(output).message
    assert _status(output).status == Status.FAILED
    assert "asked to wait 60 s before the next request (Retry-After: 60), longer than the 15 s" in message, message
    assert clock.retries == [] and "base_url" not in message


def test_check_reports_an_unreachable_host_at_once_naming_base_url(config):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again when the block ends: nothing listens there
    cfg = config.with_bem(base_url=f"http://127.0.0.1:{port}/v1-alpha").build()

    status = _status(run_check(cfg))

    assert status.status == Status.FAILED
    assert status.message.startswith(f"Could not reach the bem API: 127.0.0.1:{port} refused the connection")
    assert "Check `bem.base_url`" in status.message


def test_check_names_every_api_whose_key_is_wrong(config, http, flameup, bem):
    _answering(flameup, 401, {"error": "Unauthorized"})
    _answering(bem, 401, {"message": "Unauthorized"})

    status = _status(run_check(config.with_flameup().with_bem().build()))

    assert status.status == Status.FAILED
    assert "Check `flameup.api_key`" in status.message and "Check `bem.api_key`" in status.message
    assert FLAMEUP_KEY not in status.message and BEM_KEY not in status.message


@pytest.mark.parametrize("section, stream", [("flameup", FLAMEUP), ("bem", BEM)])
def test_discover_lists_only_the_configured_streams(api_host, http, section, stream):
    builder = ConfigBuilder(api_host).with_flameup() if section == "flameup" else ConfigBuilder(api_host).with_bem()

    assert [s.name for s in run_discover(builder.build()).catalog.catalog.streams] == [stream]


def test_discover_declares_keys_cursors_and_both_sync_modes(config, http):
    streams = {s.name: s for s in run_discover(config.with_flameup().with_bem().build()).catalog.catalog.streams}

    assert {name: s.source_defined_primary_key for name, s in streams.items()} == {
        name: [[key]] for name, key in PRIMARY_KEYS.items()
    }  # the emulator's ground truth keys records the way the manifest does
    assert streams[FLAMEUP].source_defined_primary_key == [["id"]]
    assert streams[FLAMEUP].default_cursor_field == ["timestamp"]
    assert streams[BEM].source_defined_primary_key == [["eventID"]]
    assert streams[BEM].default_cursor_field == ["eventID"]
    for stream in streams.values():
        assert set(stream.supported_sync_modes) == {SyncMode.full_refresh, SyncMode.incremental}
        assert stream.source_defined_cursor is True
        assert stream.json_schema["properties"]
    assert http.request_history == []
