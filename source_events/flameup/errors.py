"""Flameup's error policy beyond the manifest's filters: what a 400/422 about `limit` means."""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_events.common.errors import EventsErrorHandler
from source_events.common.pages import parsed_body


@dataclass
class FlameupErrorHandler(EventsErrorHandler):
    """The events error handler, plus a 400/422 about `limit` (a rule the manifest cannot declare: its filters match on
    a status code OR a predicate, and a predicate does not see the status code): handed back to the retriever's `ask`
    (IGNORE), which tells a page too large (asked again smaller when the page size is the connector's to find, else a
    config error naming `flameup.page_size`) from a listing served no deeper. A 400 about `offset` fails the sync with
    its message: taken for a depth served no deeper, one that says "a multiple of the page size" lost events quietly
    (adversary review of 0.5.17's first version)."""

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (400, 422):
            message, asked = refusal_message(response_or_exception), _limit_asked(response_or_exception)
            if "limit" in message.lower() and asked:
                return _HANDED_BACK
        return super().interpret_response(response_or_exception)


_HANDED_BACK = ErrorResolution(
    response_action=ResponseAction.IGNORE,
    failure_type=FailureType.transient_error,
    error_message="Flameup refused the `limit` asked for; the retriever decides what that means.",
)


def refusal_message(response: requests.Response) -> str:
    """What Flameup's error body says, in either of its shapes."""
    body = parsed_body(response)
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(body.get("message") or error or "")


def _limit_asked(response: requests.Response) -> int | None:
    asked = parse_qs(urlsplit(response.request.url if response.request else "").query).get("limit")
    return int(asked[0]) if asked and asked[0].isdigit() else None
