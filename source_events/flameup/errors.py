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
    """The events error handler, plus what a 400/422 about `limit` means (a rule the manifest cannot declare:
    its filters match on a status code OR a predicate, and a predicate does not see the status code).

    When `flameup.page_size` is unset the refusal is handed back to whoever asked (IGNORE: the retriever's `ask`
    asks again at a size Flameup accepts, source_events.flameup.page_size). When the user set it, it is a
    config error naming that setting: their size is sent as it is."""

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code in (400, 422):
            message, asked = refusal_message(response_or_exception), _limit_asked(response_or_exception)
            if "limit" in message.lower() and asked:
                if not self.config.get("flameup", {}).get("page_size"):
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
    response_action=ResponseAction.IGNORE,
    failure_type=FailureType.transient_error,
    error_message="Flameup refused the page size asked for; asking again for a smaller one.",
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
