"""The manifest's `api_budget` policy: paces requests ahead of time, remembers when each call was made (not
the call), and blocks for a window only when the API says the key is spent.

The CDK's MovingWindowCallRatePolicy hands each PreparedRequest to pyrate-limiter as the name of its bucket
item, and the bucket keeps every item for the whole window (62 s here). At Flameup's 120 requests a minute
that is 120 requests held, but at a raised `flameup.requests_per_minute` it grows with the pace: at 150
requests/s, peak RSS rose from 96 to 133 MB between 10k and 1M events (bench/bench.py --memory). The
policy below names every item by one shared placeholder, so the bucket holds timestamps and weights only.

The CDK's policy also reads every 429 as "no calls left" and, without a reset time, fills its bucket for
the whole window (62 s): one 429 from a gateway, which sends no rate-limit headers and `Retry-After: 2`,
held every following request for a minute. This policy blocks only when an answer says
`X-RateLimit-Remaining: 0` with an `X-RateLimit-Reset` time, and then until that time; any other 429 is the
retry's business (its own `Retry-After`, see the manifest's backoff strategies).
"""

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    MovingWindowCallRatePolicy as MovingWindowCallRatePolicyModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit, MovingWindowCallRatePolicy

from source_events import cdk_contact

# stands for "a request this policy matched" inside the bucket
_MATCHED_CALL = object()


class PacingPolicy(MovingWindowCallRatePolicy):
    """The CDK's moving-window policy, except that its bucket does not keep the requests it counts, and that
    it waits out a spent key only when the API says so (X-RateLimit-Remaining: 0 with a reset time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._spent_until = 0.0  # unix seconds: the API said the key is spent until then

    def matches(self, request: Any) -> bool:
        return request is _MATCHED_CALL or super().matches(request)

    def try_acquire(self, request: Any, weight: int) -> None:
        if not self.matches(request):
            raise ValueError("Request does not match the policy")
        with self._lock:
            wait = self._spent_until - time.time()
        if wait > 0:
            raise CallRateLimitHit(
                error="the API said this key has no requests left until its rate limit resets",
                item=None,
                weight=weight,
                rate="X-RateLimit-Reset",
                time_to_wait=timedelta(seconds=wait),
            )
        super().try_acquire(_MATCHED_CALL, weight)

    def update(self, available_calls: int | None, call_reset_ts: datetime | None) -> None:
        # HttpAPIBudget calls this after every answer: available_calls from X-RateLimit-Remaining (or 0 for any
        # 429, header or not), call_reset_ts from X-RateLimit-Reset. Only both together mean "spent until then".
        if available_calls == 0 and call_reset_ts is not None:
            with self._lock:
                self._spent_until = max(self._spent_until, call_reset_ts.timestamp())


def build_pacing_policies(factory: ModelToComponentFactory) -> None:
    """Makes `factory` build PacingPolicy for each MovingWindowCallRatePolicy of the manifest: the same rates
    and matchers, through the factory's own constructors."""

    def create(model: MovingWindowCallRatePolicyModel, config: Any, **kwargs: Any) -> MovingWindowCallRatePolicy:
        return PacingPolicy(
            rates=[factory.create_rate(rate, config) for rate in model.rates],
            matchers=[factory.create_http_request_matcher(matcher, config) for matcher in model.matchers],
        )

    cdk_contact.register_constructor(factory, MovingWindowCallRatePolicyModel, create)
