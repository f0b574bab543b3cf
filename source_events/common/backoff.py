"""Backoff strategies the CDK does not have: jittered exponential backoff, and waits read from headers in
the forms these APIs send."""

import random
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.sources.streams.http.error_handlers import BackoffStrategy
from airbyte_cdk.sources.types import Config


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

    def backoff_time(self, response_or_exception: Any, attempt_count: int) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        try:
            milliseconds = float(response_or_exception.headers.get(self.header, ""))
        except ValueError:
            return None
        return milliseconds / 1000 if milliseconds > 0 else None
