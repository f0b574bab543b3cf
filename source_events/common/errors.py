"""The error policy's rules the manifest cannot declare: a 200 is a success only if its body is an events page,
and a request that failed on the network (no connection, no answer in time, an answer cut short) says what
happened and which setting governs it, and gives up on an unreachable host within about half a minute."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    SUCCESS_RESOLUTION,
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events import cdk_contact
from source_events.common.bodies import is_events_page
from source_events.common.deadline import ANSWER_TIMEOUTS, AnswerTooSlow, answer_seconds
from source_events.common.pages import parsed_body
from source_events.common.urls import host_of


class UserFacingError(AirbyteTracedException):
    """A stream's failure, said by its message. The CDK ends a failed read with one line, "During the sync, the
    following streams did not sync successfully: <stream>: <the exception's repr>": for its own exception, the
    failed request in full (URL, response headers and body), the last line a user reads. This one's repr is its
    message, the one naming the setting to fix; the TRACE message is the same either way."""

    def __repr__(self) -> str:
        return str(self)  # the message, else the internal one

    @classmethod
    def of(cls, error: AirbyteTracedException) -> "UserFacingError":
        return cls(
            internal_message=error.internal_message,
            message=_retries_spent(error) or error.message,
            failure_type=error.failure_type,
            exception=error,  # its stack trace
        )


def _retries_spent(error: AirbyteTracedException) -> str | None:
    """A request's retries spent, said as what the API answered: the CDK's own line ("Exhausted available request
    attempts. Please see logs for more details. Exception: The API is failing or unavailable (5xx); retrying with
    backoff.") said that it was retrying as the last word of a failed sync or check."""
    spent = cdk_contact.retries_spent_on(error)
    if spent is None:
        return None
    resolution, response = spent
    what = resolution.split(";")[0].rstrip(".")  # the manifest's error messages: what happened; what is done
    host = host_of(urlsplit(response.url or "")) or "the API"
    return (
        f"{what}: {host} answered HTTP {response.status_code} to every try until the retries were spent. Try again "
        "later (a failed sync resumes from the last state it saved)."
    )


@contextmanager
def said_plainly() -> Iterator[None]:
    """A request's failure raised by the CDK, raised as a UserFacingError."""
    try:
        yield
    except UserFacingError:
        raise
    except AirbyteTracedException as error:
        raise UserFacingError.of(error) from error


# Attempts to connect to a host that refuses or does not resolve before the read fails naming `base_url`; with
# source_events.common.backoff.WaitAfterNetworkError's waits (1, 2, 4, 8 s ...) about half a minute.
CONNECT_ATTEMPTS = 6


@dataclass
class EventsErrorHandler(DefaultErrorHandler):
    """The manifest's DefaultErrorHandler, plus two rules.

    - A 200 is a success only if its body is an events page. The CDK's JSON decoder turns an HTML page or JSON
      cut short into `{}`, which a reader would take for an empty page: such a 200 is retried. (As a `predicate`
      filter this cost a full JSON parse of every page; here it reads the body parsed once for the extractor.)
      So is a page with an event that is not an object with its primary key (`event_key`): emitted, it would
      reach the destination with no key, and the event that answer damaged would be read no more (adversary
      review); after the retries the read fails saying so.
    - A request that failed on the network is retried with a message that says what happened and names the
      setting: no answer within `<section>.request_timeout_seconds`, an answer cut short, or no connection to
      `<section>.base_url`; after CONNECT_ATTEMPTS failed connections the read fails, naming `base_url` (a
      config error while no request to this API has succeeded yet).

        error_handler:
          type: CustomErrorHandler
          class_name: source_events.common.errors.EventsErrorHandler
          api: Flameup          # the API's name, for messages
          section: flameup      # its config section, for the settings they name
          event_key: id         # each event's primary key
    """

    api: str = "The API"
    section: str = ""
    event_key: str = ""  # each event's primary key; "" checks none

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        cdk_contact.with_default_response_filter(self)
        self._lock = threading.Lock()
        self._failed_connections: dict[int, int] = {}  # id(request) -> connections refused so far
        self._connected = False
        self._served_events = False  # an events page came from this API in this process

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Response):
            self._connected = True
            if response_or_exception.status_code == 200:
                body = parsed_body(response_or_exception)
                if is_events_page(body, self.event_key or None):
                    self._served_events = True
                    return SUCCESS_RESOLUTION
                if is_events_page(body):
                    return self._event_without_key()
                if not self._served_events and _is_web_page(response_or_exception):
                    return self._web_page(response_or_exception)
                return _BODY_WITHOUT_EVENTS
        elif isinstance(response_or_exception, requests.RequestException):
            return self._network_failure(response_or_exception)
        return super().interpret_response(response_or_exception)

    def _web_page(self, response: requests.Response) -> ErrorResolution:
        """A web page where the first events page should be: `base_url` names a site, not the API (retried, it
        held `check` in the Airbyte form for two and a half minutes). Once this API served events, a page is a
        proxy's or gateway's hiccup, and retried (_BODY_WITHOUT_EVENTS)."""
        where = urlsplit(response.url or "")
        return ErrorResolution(
            response_action=ResponseAction.FAIL,
            failure_type=FailureType.config_error,
            error_message=(
                f"{self.api} at {host_of(where)} answered {where.path or '/'} with a web page (HTTP 200, "
                f"{response.headers.get('Content-Type') or 'no Content-Type'}), not an events list: check "
                f"`{self.section}.base_url` (leave it unset for the vendor's API)."
            ),
        )

    def _event_without_key(self) -> ErrorResolution:
        return ErrorResolution(
            response_action=ResponseAction.RETRY,
            failure_type=FailureType.transient_error,
            error_message=f"{self.api} answered with an event that has no `{self.event_key}` (a damaged answer); "
            "retrying.",
        )

    def _network_failure(self, error: requests.RequestException) -> ErrorResolution:
        kind = network_failure(error)
        if kind != "connect":
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=describe_network_failure(self.api, self.section, kind, self._timeout()),
            )
        with self._lock:
            attempts = self._failed_connections[id(error.request)] = (
                self._failed_connections.get(id(error.request), 0) + 1
            )
        where = host_of(error.request.url if error.request is not None else "")
        if attempts < CONNECT_ATTEMPTS:
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=f"Could not connect to {self.api} at {where} (`{self.section}.base_url`)",
            )
        return ErrorResolution(
            response_action=ResponseAction.FAIL,
            failure_type=FailureType.transient_error if self._connected else FailureType.config_error,
            error_message=(
                f"Could not connect to {self.api} at {where} ({_reason(error)}), {attempts} times in a row. Check "
                f"`{self.section}.base_url` (leave it unset for the vendor's API) and that this machine may connect "
                "to that host."
            ),
        )

    def _timeout(self) -> Any:
        return (self.config.get(self.section) or {}).get("request_timeout_seconds")


def network_failure(error: BaseException) -> str:
    """What went wrong on the network: "slow" (the answer kept coming past its whole deadline), "timeout" (no
    answer, or no more of it, in time), "cut" (the answer stopped short), or "connect" (no connection: refused,
    reset before an answer, a name that does not resolve)."""
    if isinstance(error, AnswerTooSlow):
        return "slow"
    if isinstance(error, requests.Timeout) or "timed out" in str(error).lower():
        return "timeout"
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "cut"
    return "connect"


def describe_network_failure(api: str, section: str, kind: str, timeout: Any) -> str:
    if kind == "slow":
        whole = answer_seconds(timeout) if isinstance(timeout, (int, float)) else None
        return (
            f"{api} kept sending its answer for more than {whole:g} s ({ANSWER_TIMEOUTS} times "
            f"`{section}.request_timeout_seconds`)"
            if whole
            else f"{api} kept sending its answer too long (`{section}.request_timeout_seconds`)"
        )
    if kind == "timeout":
        return f"{api} sent nothing for {timeout} s (`{section}.request_timeout_seconds`)"
    if kind == "cut":
        return f"{api}'s answer was cut short"
    return f"Could not connect to {api} (`{section}.base_url`)"


def _reason(error: requests.RequestException) -> str:
    text = str(error)
    for reason in ("Name or service not known", "nodename nor servname", "Connection refused", "Connection reset"):
        if reason.lower() in text.lower():
            return reason[0].lower() + reason[1:]
    return type(error).__name__


def _is_web_page(response: requests.Response) -> bool:
    """An HTML answer: said so by its Content-Type, or starting with a tag."""
    if "html" in (response.headers.get("Content-Type") or "").lower():
        return True
    return response.content[:512].lstrip().startswith(b"<")


_BODY_WITHOUT_EVENTS = ErrorResolution(
    response_action=ResponseAction.RETRY,
    failure_type=FailureType.transient_error,
    error_message="The API answered with a body that is not an events list (an HTML page, or JSON cut short). Such an "
    "answer is retried; if every retry gets one, check the `base_url` setting: it must be the API's, not a web page's.",
)
