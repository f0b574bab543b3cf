"""Flameup's error policy beyond the manifest's filters: a `limit` Flameup refuses is told to the paging."""

from dataclasses import dataclass
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_events.common.errors import EventsErrorHandler
from source_events.common.pages import parsed_body
from source_events.flameup.paging import limit_asked


@dataclass
class FlameupErrorHandler(EventsErrorHandler):
    """The events error handler, plus what a 400/422 about `limit` means (a rule the manifest cannot declare:
    its filters match on a status code OR a predicate, and a predicate does not see the status code).

    When `flameup.page_size` is unset, the stream's paging is told (FlameupOffsetPagination.rejected: the size
    the message names, else half) and the same page is asked again smaller (REDUCE_PAGE_SIZE, the retriever's
    `page_size_reduction`). When the user set it, it is a config error naming that setting: their size is
    sent as it is."""

    page_sizes: Any = None  # the stream's FlameupOffsetPagination (source_events.flameup.cursor attaches it)

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (400, 422):
            message, asked = _message_of(response_or_exception), limit_asked(response_or_exception)
            if "limit" in message.lower() and asked:
                if self.page_sizes is not None and self.page_sizes.automatic:
                    self.page_sizes.rejected(asked, message)
                    return _SMALLER_PAGE
                return ErrorResolution(
                    response_action=ResponseAction.FAIL,
                    failure_type=FailureType.config_error,
                    error_message=(
                        f"Flameup rejected `limit={asked}` ({message}). Lower `flameup.page_size`, or leave it "
                        "unset: the connector then finds the largest page Flameup serves."
                    ),
                )
        return super().interpret_response(response_or_exception)


_SMALLER_PAGE = ErrorResolution(
    response_action=ResponseAction.REDUCE_PAGE_SIZE,
    failure_type=FailureType.transient_error,
    error_message="Flameup refused the page size asked for; asking again for a smaller one.",
)


def _message_of(response: requests.Response) -> str:
    body = parsed_body(response)
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(body.get("message") or error or "")
