"""The waits read from headers (source_events/common/backoff.py), table-driven: `Retry-After` in seconds or
as an HTTP-date, and the rate limit's reset time only when the answer says the key is spent."""

import time
from email.utils import formatdate

import pytest
import requests

from source_events.common.backoff import WaitTimeFromRetryAfter, WaitUntilRateLimitReset, seconds_until


def _response(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update({name.replace("_", "-"): value for name, value in headers.items()})
    return response


def _http_date(seconds_from_now: float) -> str:
    return formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    "test_name, retry_after, low, high",
    [
        ("seconds", lambda: "2", 2, 2),
        ("fractional_seconds", lambda: "0.5", 0.5, 0.5),
        ("negative_is_no_wait", lambda: "-3", 0, 0),
        ("http_date_in_ten_seconds", lambda: _http_date(10), 8.5, 10),  # an HTTP-date has whole seconds
        ("http_date_in_the_past_is_no_wait", lambda: _http_date(-60), 0, 0),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_an_http_date(test_name, retry_after, low, high):
    assert low <= seconds_until(retry_after()) <= high


@pytest.mark.parametrize("retry_after", ["", "soon", "Mon, 99 Foo 2026"])
def test_an_unreadable_retry_after_names_no_wait(retry_after):
    assert seconds_until(retry_after) is None


def test_the_retry_after_strategy_reads_its_header():
    strategy = WaitTimeFromRetryAfter(parameters={}, config={})

    assert strategy.backoff_time(_response(429, Retry_After="3"), 1) == 3
    assert strategy.backoff_time(_response(429), 1) is None


@pytest.mark.parametrize(
    "test_name, status, remaining, waits",
    [
        ("a_429_waits_for_the_reset", 429, None, True),
        ("remaining_zero_waits_for_the_reset", 503, "0", True),
        ("a_5xx_with_calls_left_does_not", 503, "17", False),
        ("a_5xx_without_remaining_does_not", 500, None, False),
    ],
)
def test_the_reset_time_is_waited_for_only_when_the_key_is_spent(test_name, status, remaining, waits):
    headers = {"X_RateLimit_Reset": str(int(time.time()) + 30)}
    if remaining is not None:
        headers["X_RateLimit_Remaining"] = remaining
    strategy = WaitUntilRateLimitReset(parameters={}, config={})

    wait = strategy.backoff_time(_response(status, **headers), 1)

    assert (28 <= wait <= 30) if waits else wait is None
