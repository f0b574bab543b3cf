"""Shared fixtures: an emulated Flameup and bem behind requests-mock, and a loopback TCP listener that accepts.

`check` opens a TCP connection to the API host before its request (see source_events/check.py); the
listener gives it a real host to reach, while requests-mock answers the HTTP request itself.
"""

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests_mock as requests_mock_module

from source_events import cdk_contact
from source_events.emulator import BemApi, FlameupApi
from testkit.builders import BEM_KEY, FLAMEUP_KEY, WORKSPACE, ConfigBuilder
from testkit.emulator import install_fake_clock


@pytest.fixture(scope="session")
def api_host() -> Iterator[str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def accept_and_close() -> None:
        # a listener that never accepts fills its backlog after 16 connections: every later probe in the session
        # would wait its 10 s and report the host unreachable
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was shut down: the session is over
                return
            connection.close()

    threading.Thread(target=accept_and_close, name="api_host", daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
    listener.close()


@pytest.fixture(autouse=True)
def _isolated_request_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REQUEST_CACHE_PATH", str(tmp_path))


@pytest.fixture(autouse=True)
def _no_real_waits(monkeypatch):
    """A unit test never sleeps through a retry or the API budget: either would be a real wait of seconds
    (the budget's window is a minute). A test that means to wait injects a clock of its own."""

    def refuse(seconds: float) -> None:
        raise AssertionError(f"a unit test asked to sleep {seconds} s (retry or API budget): inject a clock")

    monkeypatch.setattr(cdk_contact.RETRY_SLEEPS_IN, "time", SimpleNamespace(sleep=refuse))
    monkeypatch.setattr(cdk_contact.BUDGET_SLEEPS_IN, "time", SimpleNamespace(sleep=refuse))


@pytest.fixture
def config(api_host) -> ConfigBuilder:
    return ConfigBuilder(api_host)


@pytest.fixture
def flameup() -> FlameupApi:
    return FlameupApi(WORKSPACE, FLAMEUP_KEY, events=[])


@pytest.fixture
def bem() -> BemApi:
    return BemApi(BEM_KEY, events=[])


@pytest.fixture
def http(api_host, flameup, bem) -> Iterator[requests_mock_module.Mocker]:
    """requests-mock serving both emulated APIs; `http.request_history` lists every request sent."""
    with requests_mock_module.Mocker() as mocker:
        for prefix, api in (("/api/v1/", flameup), ("/v1-alpha/", bem)):
            mocker.get(re.compile(re.escape(api_host + prefix)), json=_answer_with(api, prefix))
        yield mocker


def _answer_with(api, prefix):
    def answer(request, context):
        url = urlsplit(request.url)
        # requests-mock lower-cases request.qs; the APIs' parameter names are case-sensitive
        query = parse_qs(url.query, keep_blank_values=True)
        response = api.list_events(url.path.split(prefix.rstrip("/"), 1)[-1], query, request.headers)
        context.status_code = response.status
        context.headers.update(response.headers)
        return response.body

    return answer


@pytest.fixture
def clock(monkeypatch):
    """Retries and API-budget waits recorded on a fake clock, not slept (for a test that needs them to pass)."""
    return install_fake_clock(monkeypatch)
