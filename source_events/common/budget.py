"""The manifest's `api_budget`: Flameup's requests paced ahead of time, counted as the API can count them.

Flameup allows `limit` requests a minute per key and counts a request somewhere between the moment we send
it and the moment its answer is back (on arrival, most likely; its docs do not say). The budget therefore
counts each request from when it is sent until `interval` after its answer came back: a new request goes
out only while fewer than `limit` are in flight or were answered within the last `interval`. Whatever the
network does to each request's travel time, no `interval` of the API's own counting can then hold more
than `limit` of them (unit_tests/common/test_api_budget.py checks this against random travel times). The
cost is one round trip per window of the budget, where a fixed margin (0.3.x-0.4.0 counted per 62 s)
cost 2 s of every 62 whatever the network did.

That holds if the API's minute is 60 s of our clock and nobody else spends the key. When a 429 from the
API's own limiter (one with X-RateLimit headers) shows it does not hold, the budget widens its interval by
a thirtieth (2 s a minute), up to half as much again, for the rest of the sync, and says so once: slower,
and exact either way (the 429 itself is retried).

When an answer says `X-RateLimit-Remaining: 0` with an `X-RateLimit-Reset` time while the pace has not
used the limit itself (another tool spends the key), every request waits until then. When the pace has used
it, its own count already waits, and to the moment: the reset is in whole seconds, and waiting for it cost
up to a second a minute (measured: 98.6 % of the limit instead of 99.8 %). Any other 429 (a gateway's,
with `Retry-After` only) is the retry's business, not the budget's.

The CDK's MovingWindowCallRatePolicy is replaced (build_pacing_budget) because it counts a request from the
moment it is acquired, before it travels, and keeps every request object for the whole window.
"""

import logging
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

import requests
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    HTTPAPIBudget as HTTPAPIBudgetModel,
)
from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    MovingWindowCallRatePolicy as MovingWindowCallRatePolicyModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.call_rate import BaseCallRatePolicy, CallRateLimitHit, HttpAPIBudget, Rate

from source_events import cdk_contact
from source_events.common.backoff import LONGEST_NAMED_WAIT_SECONDS

LOGGER = logging.getLogger("airbyte")

# A request still unanswered this long after it was sent reached the API by then, if ever (TCP gives up
# connecting after about two minutes): from then on it counts as answered at this age. Only a request
# whose error was not retried is never answered.
IN_FLIGHT_AT_MOST_SECONDS = 300.0
# Each 429 of the API's own limiter widens the interval by this share of it, up to WIDEST times it.
WIDEN_BY = 1 / 30
WIDEST = 1.5
# A wait of the pace this long or longer is logged (once a budget window).
SAY_WAITS_FROM_SECONDS = 5.0
# A wait is never shorter: a clock that moves only by the waits asked (a test's) then always passes the moment
# it waits for, which a float sum can miss by a rounding error.
SHORTEST_WAIT_SECONDS = 0.001


class PacingPolicy(BaseCallRatePolicy):
    """At most `limit` requests in flight or answered within the last `interval` (see the module)."""

    def __init__(self, limit: int, interval: timedelta, matchers: list[Any]) -> None:
        super().__init__(matchers)
        self.limit = max(int(limit), 1)
        self.interval = interval.total_seconds()
        self._base_interval = self.interval
        self._lock = threading.Lock()
        self._answered: deque[float] = deque()  # when each counted request was answered, oldest first
        # id(request) -> (sent at, weight); not the request. An id Python reuses after its request was dropped
        # unanswered reads as a retry of it: that attempt then counts as ended, which it surely has.
        self._in_flight: dict[int, tuple[float, int]] = {}
        self._spent_until = 0.0  # unix seconds: the API said this key is spent until then
        self._said_until = 0.0  # unix seconds: the last "waits" line covers the wait until then

    def try_acquire(self, request: Any, weight: int) -> None:
        if not self.matches(request):
            raise ValueError("Request does not match the policy")
        with self._lock:
            now = time.time()
            if id(request) in self._in_flight:  # the CDK retries with the same request: that attempt has ended
                self._answer(id(request), now)
            self._forget_before(now)
            if self._spent_until > now:
                wait, reason = self._spent_until - now, "X-RateLimit-Reset"
            elif self._counted() + weight <= self.limit:
                self._in_flight[id(request)] = (now, weight)
                return
            else:  # the oldest answer frees a request at `interval` after it; one still in flight, later
                wait, reason = (self._answered[0] if self._answered else now) + self.interval - now, "pace"
                self._say_it_waits(now, wait)
        raise CallRateLimitHit(
            error=f"Flameup allows {self.limit} requests per {self.interval:g} s",
            item=None,
            weight=weight,
            rate=reason,
            time_to_wait=timedelta(seconds=max(wait, SHORTEST_WAIT_SECONDS)),
        )

    def answered(self, request: Any, rate_limited: bool) -> None:
        """The API answered `request`; `rate_limited`: with a 429 of its own limiter (X-RateLimit headers)."""
        with self._lock:
            self._answer(id(request), time.time())
            if rate_limited:
                self._widen()

    def update(self, available_calls: int | None, call_reset_ts: datetime | None) -> None:
        # HttpAPIBudget calls this after every answer: available_calls from X-RateLimit-Remaining (or 0 for any
        # 429, header or not), call_reset_ts from X-RateLimit-Reset. Only both together mean "spent until then".
        # When the pace has itself used the limit, it already waits as long as needed, and to the moment: the
        # reset is whole seconds (up to 1 s a minute lost). Below the limit, something else spent the key.
        # A reset further away than a sync waits is left to the 429 it comes with, whose retry says so and ends the
        # sync (source_events.common.backoff.named_wait): every request waiting here would hold the sync as long.
        if (
            available_calls == 0
            and call_reset_ts is not None
            and call_reset_ts.timestamp() - time.time() <= LONGEST_NAMED_WAIT_SECONDS
        ):
            with self._lock:
                if self._counted() < self.limit:
                    self._spent_until = max(self._spent_until, call_reset_ts.timestamp())

    def _say_it_waits(self, now: float, wait: float) -> None:
        """One line a budget window when the pace holds requests for a while, so that a sync waiting out the
        limit does not look stuck (the readers all wait at once, and the CDK's own line is at debug level)."""
        if wait < SAY_WAITS_FROM_SECONDS or now < self._said_until:
            return
        self._said_until = now + wait
        LOGGER.info(
            f"Flameup allows {self.limit} requests per {self.interval:g} s (`flameup.requests_per_minute`): "
            f"this minute's are spent, the next goes out in {wait:.0f} s."
        )

    def _answer(self, key: int, at: float) -> None:
        sent = self._in_flight.pop(key, None)
        if sent is not None:
            self._answered.extend([at] * sent[1])

    def _forget_before(self, now: float) -> None:
        for key, (sent_at, _) in list(self._in_flight.items()):
            if now - sent_at > IN_FLIGHT_AT_MOST_SECONDS:
                self._answer(key, sent_at + IN_FLIGHT_AT_MOST_SECONDS)
        while self._answered and self._answered[0] <= now - self.interval:
            self._answered.popleft()

    def _counted(self) -> int:
        return len(self._answered) + sum(weight for _, weight in self._in_flight.values())

    def _widen(self) -> None:
        widest = self._base_interval * WIDEST
        if self.interval >= widest:
            return
        if self.interval == self._base_interval:
            LOGGER.warning(
                f"Flameup answered 429 although requests were paced to {self.limit} per {self.interval:g} s: "
                "pacing them more slowly for the rest of this sync. If other tools use this API key, lower "
                "`flameup.requests_per_minute`."
            )
        self.interval = min(self.interval + self._base_interval * WIDEN_BY, widest)


class PacingBudget(HttpAPIBudget):
    """The CDK's HttpAPIBudget, which also tells a PacingPolicy which request was answered, and how."""

    def __init__(self, *, remaining_header: str, reset_header: str, rate_limited_statuses: list[int], **kwargs: Any):
        super().__init__(
            ratelimit_reset_header=reset_header,
            ratelimit_remaining_header=remaining_header,
            status_codes_for_ratelimit_hit=rate_limited_statuses,
            **kwargs,
        )
        self.remaining_header = remaining_header
        self.rate_limited_statuses = rate_limited_statuses

    def update_from_response(self, request: Any, response: Any) -> None:
        policy = self.get_matching_policy(request)
        if isinstance(policy, PacingPolicy) and isinstance(response, requests.Response):
            policy.answered(
                request,
                rate_limited=response.status_code in self.rate_limited_statuses
                and self.remaining_header in response.headers,
            )
        super().update_from_response(request, response)


def build_pacing_budget(factory: ModelToComponentFactory) -> None:
    """Makes `factory` build the manifest's HTTPAPIBudget as a PacingBudget, and each of its
    MovingWindowCallRatePolicy as a PacingPolicy of the same rate and matchers."""

    def create_policy(model: MovingWindowCallRatePolicyModel, config: Any, **kwargs: Any) -> PacingPolicy:
        rates: list[Rate] = [factory.create_rate(rate, config) for rate in model.rates]
        if len(rates) != 1:
            raise ValueError("the pacing policy takes one rate")
        return PacingPolicy(
            limit=rates[0].limit,
            interval=rates[0].interval,
            matchers=[factory.create_http_request_matcher(matcher, config) for matcher in model.matchers],
        )

    def create_budget(model: HTTPAPIBudgetModel, config: Any, **kwargs: Any) -> PacingBudget:
        if not all(isinstance(policy, MovingWindowCallRatePolicyModel) for policy in model.policies):
            raise ValueError("the API budget takes MovingWindowCallRatePolicy policies only")
        return PacingBudget(
            policies=[create_policy(policy, config) for policy in model.policies],
            reset_header=model.ratelimit_reset_header or "ratelimit-reset",
            remaining_header=model.ratelimit_remaining_header or "ratelimit-remaining",
            rate_limited_statuses=model.status_codes_for_ratelimit_hit or [429],
        )

    cdk_contact.register_constructor(factory, HTTPAPIBudgetModel, create_budget)
