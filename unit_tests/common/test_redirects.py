"""Redirects through a session the connector checks (source_events.common.redirects), at the unit level through
requests-mock; integration_tests/test_reliability.py follows them through the emulator."""

import pytest
import requests

from source_events.common.errors import UserFacingError
from source_events.common.redirects import refuse_redirects_elsewhere

BASE = "https://api.bem.test/v1-alpha/events"


def _session() -> requests.Session:
    session = requests.Session()
    refuse_redirects_elsewhere(session, "bem")
    refuse_redirects_elsewhere(session, "bem")  # once a session
    return session


@pytest.mark.parametrize(
    "location",
    [
        "https://api.bem.test:A:B/v1-alpha/events",  # a port that is no number: 0.5.15's first draft raised ValueError
        "https://api.bem.test:+1/v1-alpha/events",
        "//elsewhere.test/v1-alpha/events",
        "http://api.bem.test/v1-alpha/events",  # https to plain http
        "https://api.bem.test:8443/v1-alpha/events",
    ],
)
def test_a_redirect_elsewhere_is_refused_naming_base_url(requests_mock, location):
    requests_mock.get(BASE, status_code=301, headers={"Location": location})

    with pytest.raises(UserFacingError) as raised:
        _session().get(BASE, headers={"x-api-key": "bem_key"})

    assert "set `bem.base_url` to it" in raised.value.message
    assert raised.value.failure_type.value == "config_error"
    assert len(requests_mock.request_history) == 1 and len(_session().hooks["response"]) == 1


def test_a_redirect_on_the_same_host_is_followed(requests_mock):
    requests_mock.get(BASE, status_code=308, headers={"Location": "/v1-alpha/events?page=2"})
    requests_mock.get(BASE + "?page=2", json={"events": []})

    answer = _session().get(BASE, headers={"x-api-key": "bem_key"})

    assert answer.json() == {"events": []} and len(requests_mock.request_history) == 2
