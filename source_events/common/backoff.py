"""Backoff strategies the CDK does not have: jittered exponential backoff, waits read from headers in the forms
these APIs send (each bounded: `named_wait`), and a short wait after a network failure that says what happened."""

import logging
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from time import monotonic  # the real clock, apart from `time`, which tests replace to skip the waits
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.types import Config

from source_events import cdk_contact
from source_events.common.errors import CONNECT_ATTEMPTS, UserFacingError, describe_network_failure, network_failure

LOGGER = logging.getLogger("airbyte")

# The longest wait an answer may name (Retry-After, retry-after-ms, X-RateLimit-Reset) that a sync sleeps through:
# the CDK's own bound on retrying one request (an error handler's default `max_time`). The CDK sleeps a named wait
# in full, unbounded: a daily quota spent, or a server sending a timestamp where seconds belong, would hold the
# sync for hours or years (adversary review: `Retry-After: 86400` slept a day).
LONGEST_NAMED_WAIT_SECONDS = 600


def named_wait(
    seconds: float, response: requests.Response, header: str, longest: float = LONGEST_NAMED_WAIT_SECONDS
) -> float:
    """`seconds`, the wait `response`'s `header` names, when the command may wait that long (`longest`: a sync's
    LONGEST_NAMED_WAIT_SECONDS, `check`'s less); else it fails saying so (a transient error: a sync resumes from the
    state it saved)."""
    if seconds <= longest:
        return seconds
    host = urlsplit(response.url or "").hostname or "The API"
    raise UserFacingError(
        message=f"{host} asked to wait {seconds:,.0f} s before the next request ({header}: "
        f"{response.headers.get(header, '')}), longer than the {longest:g} s this command waits for an answer. It "
        "stops here; a sync resumes from the state it saved. If other tools use this API key, they may have spent "
        "its quota.",
        failure_type=FailureType.transient_error,
    )


@dataclass
class JitteredExponentialBackoff(BackoffStrategy):
    """The last resort when a retryable answer names no wait: exponential, capped, with jitter.

    Wait `factor * 2**attempt` seconds (capped at `max_seconds`), then keep a random 50-100 % of it
    ("equal jitter"), so that parallel windows, or several connections sharing a key, do not retry in
    lock-step. The CDK's ExponentialBackoffStrategy has no jitter.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    factor: float = 2
    max_seconds: float = 60

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        base = min(float(self.max_seconds), float(self.factor) * 2 ** max(attempt_count, 0))
        return base / 2 + random.uniform(0, base / 2)


@dataclass
class WaitTimeFromMillisecondsHeader(BackoffStrategy):
    """Waits as long as a header says in milliseconds (bem's `retry-after-ms`, honoured by its SDK).

    The CDK's WaitTimeFromHeader reads seconds only.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    header: str = "retry-after-ms"
    longest_wait: float = LONGEST_NAMED_WAIT_SECONDS  # `check` waits less (source_events.check)

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        try:
            milliseconds = float(response_or_exception.headers.get(self.header, ""))
        except ValueError:
            return None
        return (
            named_wait(milliseconds / 1000, response_or_exception, self.header, self.longest_wait)
            if milliseconds > 0
            else None
        )


@dataclass
class WaitTimeFromRetryAfter(BackoffStrategy):
    """Waits as long as `Retry-After` says, in either of its forms: seconds (`Retry-After: 2`) or an HTTP-date
    (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, as gateways and proxies send it). The CDK's
    WaitTimeFromHeader reads seconds only, and a date would fall through to a blind backoff."""

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    header: str = "Retry-After"
    longest_wait: float = LONGEST_NAMED_WAIT_SECONDS  # `check` waits less (source_events.check)

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        seconds = seconds_until(response_or_exception.headers.get(self.header, ""))
        return None if seconds is None else named_wait(seconds, response_or_exception, self.header, self.longest_wait)


def seconds_until(retry_after: str) -> float | None:
    """`Retry-After`'s wait in seconds (never negative), or None if it is neither a number nor an HTTP-date."""
    value = retry_after.strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return max(moment.timestamp() - time.time(), 0.0)


@dataclass
class WaitUntilRateLimitReset(BackoffStrategy):
    """Waits until the rate limit resets (`X-RateLimit-Reset`, unix seconds), but only when the answer says
    the key is spent: a 429, or `X-RateLimit-Remaining: 0`. A 5xx that happens to carry rate-limit headers
    is left to the jittered backoff instead of waiting out the whole window."""

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    reset_header: str = "X-RateLimit-Reset"
    remaining_header: str = "X-RateLimit-Remaining"
    min_wait: float = 1
    longest_wait: float = LONGEST_NAMED_WAIT_SECONDS  # `check` waits less (source_events.check)

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        headers = response_or_exception.headers
        spent = response_or_exception.status_code == 429 or headers.get(self.remaining_header, "").strip() == "0"
        try:
            reset = float(headers.get(self.reset_header, ""))
        except ValueError:
            return None
        if not spent:
            return None
        return named_wait(
            max(reset - time.time(), float(self.min_wait)), response_or_exception, self.reset_header, self.longest_wait
        )


@dataclass
class WaitAfterNetworkError(BackoffStrategy):
    """After a request failed on the network (no connection, no answer within the timeout, an answer cut short),
    wait 1, 2, 4, then 8 s at most, and say so in one line naming the setting that governs it (the CDK's own
    retry line speaks of a rate limit). Answers with a status code are left to the other strategies."""

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    api: str = "The API"
    section: str = ""
    max_retries: int = 6  # the error handler's: the last attempt is not followed by a wait, nor said to be
    max_seconds: float = 8

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        cdk_contact.without_the_cdk_network_retry_line()  # this strategy's line says it
        # a stream's readers share this strategy: when they fail together (an unreachable host), each line once
        self._said_lock = threading.Lock()
        self._said: dict[str, float] = {}  # a line -> when it may be said again (monotonic())

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.RequestException):
            return None
        wait = min(2 ** max(attempt_count - 1, 0), float(self.max_seconds))
        kind = network_failure(response_or_exception)
        # a refused connection fails the read after CONNECT_ATTEMPTS (source_events.common.errors), before max_retries
        retries = min(self.max_retries, CONNECT_ATTEMPTS - 1) if kind == "connect" else self.max_retries
        if attempt_count <= retries:
            timeout = (self.config.get(self.section) or {}).get("request_timeout_seconds")
            what = describe_network_failure(self.api, self.section, kind, timeout)
            waits = wait + cdk_contact.CDK_EXTRA_RETRY_SECONDS  # what the CDK will sleep
            self._say(f"{what}: retrying in {waits:g} s (retry {attempt_count} of {retries}).", waits)
        return wait

    def _say(self, line: str, waits: float) -> None:
        """Log `line` unless another request said the very same within its wait: the same failure, seen twice."""
        now = monotonic()
        # said under the lock: a reader that noted a line and was paused before saying it let the other reader's
        # later lines out first ("retry 3" before "retry 2")
        with self._said_lock:
            if self._said.get(line, 0.0) > now:
                return
            self._said = {said: until for said, until in self._said.items() if until > now}
            self._said[line] = now + waits
            LOGGER.warning(line)
