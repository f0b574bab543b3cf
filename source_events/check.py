"""`check`: one cheap request per configured API, each failure turned into one line naming the setting to fix.

The stream's first page is read through the manifest's own requester, so the 401/403/404 messages are
the ones declared in its error handler. Before that, a TCP connection to the API host is opened: an
unreachable host would otherwise spend the sync's whole retry budget (minutes) before failing with a
generic "Exhausted available request attempts". Behind an HTTP proxy the probe is skipped.
"""

import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from requests.utils import get_environ_proxies

from source_events import cdk_contact
from source_events.common.urls import port_of
from source_events.manifest import API_NAMES, stream_sections

CONNECT_TIMEOUT_SECONDS = 10
# `check` is answered in the Airbyte form, where the user waits: an API that keeps failing (5xx, 429, no answer in
# time) is reported after this many retries within about this many seconds, not after a sync's budget (6 retries,
# which held the form for 2 min 46 s against an API answering 503)
CHECK_RETRIES = 2
CHECK_RETRY_SECONDS = 15
# how the manifest's messages for retried answers begin (retry_server_errors, retry_rate_limited)
RETRIES_SPENT_PREFIX = "The API is "


def check_stream(stream: AbstractStream, requester: Any, logger: logging.Logger) -> str | None:
    """None when the stream's first page reads; else the reason, naming the setting to fix."""
    unreachable = _unreachable_host(requester.get_url(), stream_sections().get(stream.name, ""))
    if unreachable:
        return unreachable
    _with_check_retries(requester.error_handler)
    with cdk_contact.without_failed_request_lines(requester.logger):  # the reason below says it in one line
        availability = stream.check_availability()
    if availability.is_available:
        logger.info(f"Stream {stream.name}: the first page was read")
        return None
    section = stream_sections().get(stream.name, "")
    if availability.reason.startswith(RETRIES_SPENT_PREFIX) and section:  # the manifest's retry messages name no API
        failing = "(5xx)" in availability.reason  # a server, perhaps not the API's; a rate limit is the API's
        hint = f" If `{section}.base_url` is set, check that it names the {API_NAMES[section]} API." if failing else ""
        return f"{API_NAMES[section]}: {availability.reason}{hint}"
    return availability.reason


def _with_check_retries(error_handler: Any) -> None:
    """The retry budget of `check` (CHECK_RETRIES, CHECK_RETRY_SECONDS) on this command's own error handler, and on its
    backoff strategies, which count the retries in the lines they log and bound the waits answers name."""
    error_handler.max_retries, error_handler.max_time = CHECK_RETRIES, CHECK_RETRY_SECONDS
    for strategy in error_handler.backoff_strategies or []:
        if hasattr(strategy, "max_retries"):
            strategy.max_retries = CHECK_RETRIES
        if hasattr(strategy, "longest_wait"):  # a wait an answer names (Retry-After): no longer than the budget
            strategy.longest_wait = CHECK_RETRY_SECONDS


def _unreachable_host(url: str, section: str) -> str | None:
    if get_environ_proxies(url):
        return None  # the request goes through a proxy: a direct connection proves nothing
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = port_of(parts)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            return None
    except socket.gaierror:
        problem = f"the host name {host} does not resolve"
    except TimeoutError:
        problem = f"{host}:{port} did not answer within {CONNECT_TIMEOUT_SECONDS} s"
    except OSError as error:
        problem = f"{host}:{port} refused the connection ({error.strerror or error})"
    return (
        f"Could not reach the {API_NAMES[section]} API: {problem}. Check `{section}.base_url` "
        "(leave it unset for the vendor's API) and that this machine may connect to that host."
    )
