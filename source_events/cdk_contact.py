"""What this connector takes from airbyte-cdk that is not its public API, all in one place.

setup.py pins the CDK to 7.39.x, and unit_tests/test_cdk_contact.py is the canary: it builds a real source
and fails, naming the attribute, when an upgrade moves any name below. Everything else the connector uses
is the CDK's documented surface: manifest components and the classes custom ones extend (`SimpleRetriever`
for the two retrievers, `DefaultErrorHandler`, `BackoffStrategy`, `RecordExtractor`), the requester's
`send_request(stream_slice=..., request_params=...)`, `Cursor`, `DefaultStream` and the
`StreamSlicerPartitionGenerator` it is built with, the API budget's classes, `AirbyteEntrypoint` and its
hooks, `resolved_manifest`, the protocol models.

Each entry says why the CDK's public surface does not suffice.
"""

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import Queue
from typing import TYPE_CHECKING, Any, TextIO

import requests
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.stream_slicers.declarative_partition_generator import (
    DeclarativePartitionFactory,
)
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams import call_rate
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.sources.streams.http import rate_limiting
from airbyte_cdk.sources.streams.http.exceptions import BaseBackoffException, UserDefinedBackoffException

from source_events.common.urls import host_of

if TYPE_CHECKING:
    from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput


def partition_factory_of(stream: DefaultStream) -> DeclarativePartitionFactory:
    """The factory of a manifest stream's partitions. `incremental_sync` takes only the CDK's datetime and
    integer cursors, so SourceEvents rebuilds each stream around its own cursor with this same factory."""
    return stream._stream_partition_generator._partition_factory  # noqa: SLF001


def retriever_of(stream: DefaultStream) -> Any:
    """The retriever a manifest stream reads through: Flameup's window planner probes through its requester
    and reads the page cap its paginator learns. DefaultStream has no accessor for it."""
    return partition_factory_of(stream)._retriever  # noqa: SLF001


def session_of(requester: Any) -> requests.Session:
    """The session a manifest requester sends through: the connector wraps its transport adapters so that an
    answer has a deadline as a whole (source_events.common.deadline). The requester takes a connect and a read
    timeout only, and has no accessor for its HTTP client or session."""
    return requester._http_client._session  # noqa: SLF001


def component_factory_of(source: Any) -> ModelToComponentFactory:
    """The source's component factory, to build one component type our way (see register_constructor)."""
    return source._constructor  # noqa: SLF001


def register_constructor(factory: ModelToComponentFactory, model: type, create: Callable[..., Any]) -> None:
    """Build every `model` of the manifest with `create`. The factory dispatches on this table and has no
    other hook for one component type (source_events.common.budget builds the API budget and its policy)."""
    factory.PYDANTIC_MODEL_TO_CONSTRUCTOR[model] = create  # type: ignore[index]


def state_manager_of(source: Any) -> ConnectorStateManager:
    """The source's state manager: our cursors read their stream's saved state from it and emit through it."""
    return source._connector_state_manager  # noqa: SLF001


def message_repository_of(source: Any) -> MessageRepository:
    """The queue-backed repository our cursors emit state and progress through, between the records."""
    return source._message_repository  # noqa: SLF001


def release_component_schema(source: Any) -> None:
    """Drop the CDK's declarative component schema once the source is built. The CDK parses it (~1 MB of objects)
    to validate the manifest while it builds the source, and keeps it for the source's life, unread; without it a
    sync's peak memory is ~2 MB lower (0.5.12, bench/bench.py --memory). None, not {}: a CDK that came to read it
    later would fail at once rather than validate against an empty schema."""
    if not hasattr(source, "_declarative_component_schema"):
        raise AttributeError("ConcurrentDeclarativeSource._declarative_component_schema")
    source._declarative_component_schema = None  # noqa: SLF001


def queue_of(source: Any) -> "Queue[Any]":
    """The queue between the readers and the thread that writes messages out: records, and the messages the
    source's repository puts there. Cursors put their messages on it themselves (QueuedInOrder), and it is
    bounded (limit_queued_messages)."""
    return source._concurrent_source._queue  # noqa: SLF001


def limit_queued_messages(source: Any, size: int) -> None:
    """At most `size` messages wait between the readers and the writer (the CDK sets 10,000 and no setting)."""
    queue_of(source).maxsize = size


def with_default_response_filter(handler: DefaultErrorHandler) -> None:
    """What the factory does for a declared DefaultErrorHandler and not for a custom one: a last response
    filter that maps every status code to its default action (retry 5xx and 429, fail the rest)."""
    handler.response_filters.append(HttpResponseFilter(config=handler.config, parameters={}))


@contextmanager
def without_the_memory_monitor_notice() -> Iterator[None]:
    """While it is entered, the INFO line `MemoryMonitor instantiated with critical threshold: …` is dropped.

    `AirbyteEntrypoint()` builds a MemoryMonitor, which logs that line on the `airbyte` logger (the one every
    protocol LOG goes through, so no logger level can drop it alone) at the top of every check and read: it
    names the CDK's internals and asks nothing of the user. The monitor's warnings under memory pressure come
    later, and show."""
    airbyte_logger = logging.getLogger("airbyte")
    airbyte_logger.addFilter(_not_the_memory_monitor_notice)
    try:
        yield
    finally:
        airbyte_logger.removeFilter(_not_the_memory_monitor_notice)


MEMORY_MONITOR_NOTICE = "MemoryMonitor instantiated"


# The CDK's line for every user-defined backoff (airbyte_cdk...rate_limiting.user_defined_backoff_handler) speaks
# of a rate limit, whatever the failure: without a response (a network failure) it is this; with one, it adds
# "(HTTP <status>)". It sleeps CDK_EXTRA_RETRY_SECONDS more than the backoff.
CDK_RETRY_NOTICE = "UserDefinedBackoffException: Rate limit exceeded. Retrying in "
CDK_RESPONSE_RETRY_NOTICE = "UserDefinedBackoffException: Rate limit exceeded (HTTP "
CDK_EXTRA_RETRY_SECONDS = 1


def without_the_cdk_network_retry_line() -> None:
    """From now on, on the `airbyte` logger: drop the CDK's line after a network failure (WaitAfterNetworkError says
    the same in its own line, naming the failure and the setting), and say the one after an answer plainly."""
    logging.getLogger("airbyte").addFilter(_retry_lines_said_plainly)  # once: a filter is added once


def _retry_lines_said_plainly(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    if message.startswith(CDK_RETRY_NOTICE):
        return False
    if message.startswith(CDK_RESPONSE_RETRY_NOTICE):
        # logged while the CDK handles the exception (sys.exc_info() is how its handler reads it too)
        error = sys.exc_info()[1]
        response = getattr(error, "response", None)
        if isinstance(error, UserDefinedBackoffException) and isinstance(response, requests.Response):
            record.msg = (
                f"{str(error).rstrip('.')}. Next try in {error.backoff + CDK_EXTRA_RETRY_SECONDS:.3g} s "
                f"({host_of(response.url or '') or 'the API'} answered HTTP {response.status_code})."
            )
            record.args = ()
    return True


def retries_spent_on(error: BaseException) -> tuple[str, requests.Response] | None:
    """For the CDK's exception after a request's retries were spent ("Exhausted available request attempts. Please
    see logs for more details. Exception: <the manifest's error_message>", or "API rate limit exceeded."): the
    error message of the last answer's resolution, and that answer. None for any other exception, or a failure
    without an answer (a network failure: WaitAfterNetworkError's lines said what happened)."""
    cause = getattr(error, "_exception", None)  # AirbyteTracedException keeps the exception it was raised for there
    if isinstance(cause, BaseBackoffException) and isinstance(cause.response, requests.Response):
        return str(cause), cause.response
    return None


@contextmanager
def without_failed_request_lines(requester_logger: logging.Logger) -> Iterator[None]:
    """While it is entered, the HttpClient's ERROR line for a request that failed (`'GET' request to '<url>' failed
    with status code …`, with the response's body and headers) is dropped from `requester_logger`: `check` says the
    same in one line naming the setting to fix (with `--debug`, the CDK logs each request and response anyway)."""
    requester_logger.addFilter(_not_a_failed_request_line)
    try:
        yield
    finally:
        requester_logger.removeFilter(_not_a_failed_request_line)


# the HttpClient's ERROR line, with the exception's whole traceback, once a request's retries are spent
CDK_RETRIES_SPENT_LINE = "Retries exhausted with backoff exception."


def without_the_retries_spent_traceback(requester_logger: logging.Logger) -> None:
    """From now on, the HttpClient's ERROR line once a request's retries are spent, with the exception's whole
    traceback, is dropped from `requester_logger`: the stream's error says what the API answered
    (source_events.common.errors.UserFacingError), and a traceback is no line for a user."""
    requester_logger.addFilter(_not_the_retries_spent_traceback)  # once: a filter is added once


def _not_the_retries_spent_traceback(record: logging.LogRecord) -> bool:
    return not (record.levelno == logging.ERROR and record.getMessage() == CDK_RETRIES_SPENT_LINE)


def _not_a_failed_request_line(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not (record.levelno == logging.ERROR and message.startswith("'") and " request to '" in message)


def _not_the_memory_monitor_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(MEMORY_MONITOR_NOTICE)


def write_out_whole_lines_and_hold(
    timeout_seconds: float, buffer: Any = PRINT_BUFFER, out: TextIO | None = None
) -> None:
    """Write the whole lines the CDK's print buffer holds to stdout, and keep its lock: the process is ending, and
    nothing may be written after. Ctrl-C (source_events.interruption) ends a read this way, mid-sync.

    `PRINT_BUFFER` (airbyte_cdk.logger) is where every protocol message and LOG goes on its way to stdout; it writes
    them out every 0.1 s under `lock`, and keeps the rest in `buffer` (a StringIO). The lock is taken once a writer
    in the middle of a line is done with it (at most `timeout_seconds`). A line still being written (`print`
    writes the text, then its line break) is left out."""
    out = out or sys.__stdout__
    if not buffer.lock.acquire(timeout=timeout_seconds):
        return  # a writer is stuck (stdout not read): nothing more can be written anyway
    held = buffer.buffer.getvalue()
    if out is not None:
        out.write(held[: held.rfind("\n") + 1])
        out.flush()


def run_command(source: Any, args: list[str]) -> "EntrypointOutput":
    """Run one protocol command on `source` through the CDK's entrypoint, its output captured (for tests). The
    CDK's test wrapper does so with `_run_command` for `read` and `discover`, and has no public function for
    `check`."""
    from airbyte_cdk.test import entrypoint_wrapper  # test tooling: not loaded by the connector's commands

    return entrypoint_wrapper._run_command(source, args)  # noqa: SLF001


# Where the CDK sleeps, for tests to replace with a clock of their own: retries sleep through
# `rate_limiting.time`, the API budget through `call_rate.time`.
RETRY_SLEEPS_IN = rate_limiting
BUDGET_SLEEPS_IN = call_rate
