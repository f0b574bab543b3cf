"""The CDK side of the console entrypoint (source_events.entrypoint): `spec|check|discover|read`, speaking the Airbyte
protocol on stdout."""

import gc
import json
import logging
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.sources.utils.schema_helpers import split_config
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets, update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from orjson import orjson

from source_events.config import parse_config
from source_events.source import SourceEvents


class EventsEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, but a bad config is reported by the setting to fix.

    The CDK validates the config against the spec's JSON Schema first, whose messages do not name the
    field (\"0 is less than the minimum of 1\"); source_events.config checks the same rules and more, by name.
    """

    @staticmethod
    def set_up_secret_filter(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
        # A blank "secret" (an API key of " ") would make the CDK mask every space of every message;
        # it hides nothing, and the config check reports it by name.
        # Each also as JSON and Python escape it, longest first: the filter masks the text of messages already
        # serialized, where a key with a quote, a backslash or a line break appears escaped.
        secrets = [s for s in get_secrets(connection_specification, config) if isinstance(s, str) and s.strip()]
        forms = {form for s in secrets for form in (s, json.dumps(s)[1:-1], repr(s)[1:-1])}
        update_secrets(sorted(forms, key=len, reverse=True))

    @staticmethod
    def validate_connection(source_spec: Any, config: Mapping[str, Any]) -> None:
        connector_config, _ = split_config(config)
        parse_config(connector_config)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def _create_source(args: list[str]) -> SourceEvents:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceEvents(
        catalog=_read_input("catalog", SourceEvents.read_catalog, catalog_path),
        config=_read_input("config", SourceEvents.read_config, config_path),
        state=_read_input("state", SourceEvents.read_state, state_path),
        config_path=config_path,
    )


def _read_input(kind: str, reader: Any, path: str | None) -> Any:
    if not path:
        return None
    try:
        return reader(path)
    except Exception as error:
        detail = str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__
        if kind == "state" and _is_legacy_state(path):
            detail = "it is a legacy state (one object for all streams); this connector reads per-stream states"
        remedy = {
            "config": "Pass a JSON config file: the one Airbyte wrote, or one written as the README's Configuration shows",
            "catalog": "Pass a JSON configured catalog: the one Airbyte wrote, or one made from `discover`'s output",
            "state": "Pass the JSON list of states Airbyte wrote, or `source-events state`'s file; leave --state out "
            "for a first sync",
        }[kind]
        raise AirbyteTracedException(
            message=f"The {kind} file {path} cannot be used: {detail}. {remedy}.",
            internal_message=f"unreadable --{kind} file",
            failure_type=FailureType.config_error,
        ) from None


def _is_legacy_state(path: str) -> bool:
    try:
        with open(path) as handle:
            return isinstance(json.load(handle), dict)
    except (OSError, ValueError):
        return False


# How long a thread may hold the GIL before it must offer it to another (Python's default: 5 ms). A read
# runs up to 8 reader threads that parse pages between requests, and one that writes records; handing the
# GIL around every 5 ms between them cost 10-20 % of a sync's throughput (bench/bench.py, 0 ms latency).
# A thread waiting on the network holds no GIL, so with real latency nothing waits longer.
GIL_SWITCH_INTERVAL_SECONDS = 0.05

# Allocations between two collections of the youngest generation (Python's default: 700). A page is parsed
# into ~1,000 events' dicts that all live until written, so at 700 every page triggered young collections
# that found nothing to free and promoted it all, and older collections then walked the CDK's and the
# records' objects again: 20,000 cut a Flameup sync's CPU by ~17 % at 200,000 events (bench/bench.py; 10,000
# saved less, 50,000 no more). Garbage in cycles waits a little longer: a few MB at most.
GC_YOUNGEST_GENERATION_THRESHOLD = 20_000


def run(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECONDS)
    gc.set_threshold(GC_YOUNGEST_GENERATION_THRESHOLD, *gc.get_threshold()[1:])
    stream_config_errors: dict[str, str] = {}
    try:
        source = _create_source(args)
        entrypoint = EventsEntrypoint(source)
        parsed_args = entrypoint.parse_args(args)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_without_traceback_for_config_errors)
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                if '"config_error"' in message:
                    message = _remember_stream_config_error(message, stream_config_errors)
                # one write per message: the concurrent reader's threads must not interleave lines
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise  # the CDK's handler reports it, with its stack trace, for the platform's logs
        # A setting, a state or an input file to fix: one line, no stack trace. When streams failed, the
        # CDK's summary repeats their internal errors; their own messages say what to fix.
        summary = "; ".join(f"{stream}: {text}" for stream, text in stream_config_errors.items())
        _print_error(summary or error.message or "Invalid input.")
        sys.exit(1)


def _remember_stream_config_error(line: str, errors: dict[str, str]) -> str:
    """Note a stream's config error for the closing summary; return the line without its stack trace."""
    message = json.loads(line)
    trace = message.get("trace") or {}
    error = trace.get("error") or {}
    if trace.get("type") != "ERROR" or error.get("failure_type") != "config_error":
        return line
    stream = (error.get("stream_descriptor") or {}).get("name")
    if stream:
        errors.setdefault(stream, error.get("message", ""))
    error.pop("stack_trace", None)
    return orjson.dumps(message).decode()


def _without_traceback_for_config_errors(record: logging.LogRecord) -> bool:
    """A config error is the user's to fix: log its message, not the connector's stack."""
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, AirbyteTracedException) and error.failure_type == FailureType.config_error:
        record.msg = f"{record.getMessage()}: {error.message}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
    return True


def _print_error(message: str) -> None:
    trace = AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(message=message, failure_type=FailureType.config_error),
        ),
    )
    print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode(), flush=True)
