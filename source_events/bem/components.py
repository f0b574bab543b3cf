"""bem's one error-policy rule the manifest cannot declare: a rejected position is not a config error."""

from dataclasses import dataclass

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_events.common.errors import EventsErrorHandler


@dataclass
class BemErrorHandler(EventsErrorHandler):
    """The events error handler, plus: a 400, 404 or 422 to a request that names a `startingAfter` is handed
    back to the reading (source_events.bem.reading) as a rejected position, since the event it names may have
    vanished, instead of failing as a config error. The reading then asks without a position: a request the
    API still rejects fails with the manifest's message naming the setting to fix."""

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if (
            isinstance(response_or_exception, requests.Response)
            and response_or_exception.status_code in (400, 404, 422)
            and "startingAfter=" in (response_or_exception.request.url or "")
        ):
            return _REJECTED_POSITION
        return super().interpret_response(response_or_exception)


_REJECTED_POSITION = ErrorResolution(
    response_action=ResponseAction.IGNORE,
    failure_type=FailureType.transient_error,
    error_message="bem rejected the position a request resumed from; checking what is listed now.",
)
