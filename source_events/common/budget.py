"""The manifest's `api_budget` policy, built so that it remembers when each call was made, not the call.

The CDK's MovingWindowCallRatePolicy hands each PreparedRequest to pyrate-limiter as the name of its bucket
item, and the bucket keeps every item for the whole window (62 s here). At Flameup's 120 requests a minute
that is 120 requests held, but at a raised `flameup.requests_per_minute` it grows with the pace: at 150
requests/s, peak RSS rose from 96 to 133 MB between 10k and 1M events (bench/bench.py --memory). The
policy below names every item by one shared placeholder, so the bucket holds timestamps and weights only.
"""

from typing import Any

from airbyte_cdk.sources.declarative.models.declarative_component_schema import (
    MovingWindowCallRatePolicy as MovingWindowCallRatePolicyModel,
)
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.streams.call_rate import MovingWindowCallRatePolicy

# stands for "a request this policy matched" inside the bucket
_MATCHED_CALL = object()


class TimestampOnlyMovingWindowCallRatePolicy(MovingWindowCallRatePolicy):
    """The CDK's moving-window policy, except that its bucket does not keep the requests it counts."""

    def matches(self, request: Any) -> bool:
        return request is _MATCHED_CALL or super().matches(request)

    def try_acquire(self, request: Any, weight: int) -> None:
        if not self.matches(request):
            raise ValueError("Request does not match the policy")
        super().try_acquire(_MATCHED_CALL, weight)


def build_moving_windows_without_requests(factory: ModelToComponentFactory) -> None:
    """Makes `factory` build TimestampOnlyMovingWindowCallRatePolicy for each MovingWindowCallRatePolicy of
    the manifest: the same rates and matchers, through the factory's own constructors."""

    def create(model: MovingWindowCallRatePolicyModel, config: Any, **kwargs: Any) -> MovingWindowCallRatePolicy:
        return TimestampOnlyMovingWindowCallRatePolicy(
            rates=[factory.create_rate(rate, config) for rate in model.rates],
            matchers=[factory.create_http_request_matcher(matcher, config) for matcher in model.matchers],
        )

    # the factory dispatches on this table; it has no other hook for one component type
    factory.PYDANTIC_MODEL_TO_CONSTRUCTOR[MovingWindowCallRatePolicyModel] = create  # type: ignore[index]
