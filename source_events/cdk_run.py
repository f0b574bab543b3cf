"""The protocol commands, `spec|check|discover|read`, through the CDK's entrypoint (`AirbyteEntrypoint`), run as
the CDK's `launch()` runs them, with what a user of the CLI needs on top:
- a bad config, input file or catalog is one line naming what to fix (a TRACE, exit code 1), no stack trace;
- a stream that failed says so once: its own TRACE, not repeated by the closing summary of the sync; bem's two
  partitions, which fail alike, log each error once, and the summary names each failure once;
- Ctrl-C ends the command at once with exit code 130 (source_events.interruption).
"""

import argparse
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
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteTraceMessage,
    FailureType,
    TraceType,
    Type,
)
from airbyte_cdk.utils.airbyte_secrets_utils import get_secrets, update_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from orjson import orjson

from source_events import cdk_contact
from source_events.catalog_file import catalog_file_problem
from source_events.input_files import input_text
from source_events.interruption import end_at_interrupt
from source_events.manifest import stream_sections
from source_events.source import SourceEvents
from source_events.state_file import state_file_problem

# how the CDK's closing summary of a sync with failed streams begins (airbyte_cdk.exception_handler)
FAILED_STREAMS = "During the sync, the following streams did not sync successfully: "
# how long Ctrl-C waits for a line being written to stdout before the process ends
WRITE_OUT_TIMEOUT_SECONDS = 5.0
INTERRUPTED_NOTE = "source-events: interrupted (Ctrl-C)"
INTERRUPTED_READ_NOTE = (
    f"{INTERRUPTED_NOTE}. Every STATE printed was saved progress: the next read resumes from the last one "
    "(`source-events state READ_OUTPUT --output state.json`, then read with --state state.json)."
)


class EventsEntrypoint(AirbyteEntrypoint):
    """The CDK's entrypoint, but a bad config is reported by the setting to fix.

    The CDK validates the config against the spec's JSON Schema first, whose messages do not name the
    field ("0 is less than the minimum of 1"); the source's settings (source_events.config) check the same
    rules and more, by name, before it.
    """

    source: SourceEvents

    @staticmethod
    def set_up_secret_filter(config: Mapping[str, Any], connection_specification: Mapping[str, Any]) -> None:
        # A blank "secret" (an API key of " ") would make the CDK mask every space of every message;
        # it hides nothing, and the config check reports it by name.
        # Each also as JSON and Python escape it, longest first: the filter masks the text of messages already
        # serialized, where a key with a quote, a backslash or a line break appears escaped.
        secrets = [s for s in get_secrets(connection_specification, config) if isinstance(s, str) and s.strip()]
        forms = {form for s in secrets for form in (s, json.dumps(s)[1:-1], repr(s)[1:-1])}
        update_secrets(sorted(forms, key=len, reverse=True))

    def validate_connection(self, source_spec: Any, config: Mapping[str, Any]) -> None:  # type: ignore[override]
        # the CDK calls it on the instance; its settings are the source's, from the same --config file
        self.source.settings  # noqa: B018 - parsed here first: a config_error naming the setting
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run(args: list[str]) -> None:
    """Run one protocol command (`args` as on the command line), writing its messages to stdout; exit 1 on a
    config error, and let the CDK's handler report any other (with its stack trace, for the platform's logs)."""
    note = INTERRUPTED_READ_NOTE if args[:1] == ["read"] else INTERRUPTED_NOTE
    end_at_interrupt(lambda: cdk_contact.write_out_whole_lines_and_hold(WRITE_OUT_TIMEOUT_SECONDS), note)
    failed_streams: set[str] = set()
    said: set[tuple[str, str]] = set()  # (stream, message) of each error TRACE written
    try:
        parsed_args = AirbyteEntrypoint.parse_args(args)
        source = _create_source(parsed_args)
        with cdk_contact.without_the_memory_monitor_notice():
            entrypoint = EventsEntrypoint(source)
        EACH_ERROR_ONCE.forget()  # what an earlier command (in this process: tests) said
        for handler in logging.getLogger().handlers:
            handler.addFilter(_without_traceback_for_errors_said_plainly)
            handler.addFilter(EACH_ERROR_ONCE)  # after the one above: it compares the messages that one writes
        with PRINT_BUFFER:
            for message in entrypoint.run(parsed_args):
                if '"ERROR"' in message:
                    message = _noted_stream_error(message, failed_streams, said)
                    if message is None:
                        continue
                # one write per message: the concurrent reader's threads must not interleave lines
                print(f"{message}\n", end="")
    except AirbyteTracedException as error:
        if error.failure_type != FailureType.config_error:
            raise
        # The CDK closes a sync whose streams failed with a config_error that sums them up: each stream's own
        # error TRACE said it already, naming what to fix. Anything else (a setting, a state or an input file to
        # fix) is one line, without the stack trace.
        if not failed_streams:
            _print_error(error.message or "Invalid input.")
        sys.exit(1)


def _create_source(parsed_args: argparse.Namespace) -> SourceEvents:
    state_path = getattr(parsed_args, "state", None)
    return SourceEvents(
        catalog=_read_input("catalog", SourceEvents.read_catalog, getattr(parsed_args, "catalog", None)),
        config=_read_input("config", SourceEvents.read_config, getattr(parsed_args, "config", None)),
        state=_per_stream_states(_read_input("state", SourceEvents.read_state, state_path), state_path),
        config_path=getattr(parsed_args, "config", None),
    )


def _per_stream_states(states: list[AirbyteStateMessage] | None, path: str | None) -> list[AirbyteStateMessage] | None:
    """The states of a --state file, which must be this connector's: per stream (the CDK fails on a GLOBAL one with
    a stack trace), and of its streams (another connector's are said, not silently dropped)."""
    if not states:
        return states
    kinds = sorted({state.type.value for state in states if state.type != AirbyteStateType.STREAM})
    if kinds:
        raise AirbyteTracedException(
            message=f"The state file {path} cannot be used: it holds a {' and a '.join(kinds)} state (one for all "
            f"streams, as other connectors write); this connector saves one state per stream. {_REMEDIES['state']}.",
            internal_message="unreadable --state file",
            failure_type=FailureType.config_error,
        )
    named = {state.stream.stream_descriptor.name for state in states if state.stream is not None}
    unknown = sorted(named - set(stream_sections()))
    if unknown:
        logging.getLogger("airbyte").warning(
            f"The state file {path} holds the state of {', '.join(f'`{name}`' for name in unknown)}, which this "
            f"connector does not have (a state from another connector?): ignored. Its streams are "
            f"{' and '.join(f'`{name}`' for name in stream_sections())}."
        )
    return states


_REMEDIES = {
    "config": "Pass a JSON config file: the one Airbyte wrote, or one written as the README's Configuration shows",
    "catalog": "Pass a JSON configured catalog: the one Airbyte wrote, or the one `source-events catalog --config "
    "CONFIG --output catalog.json` writes for the streams the config provides",
    "state": "Pass the JSON list of states Airbyte wrote, or the file `source-events state READ_OUTPUT --output "
    "state.json` writes from a read's output; leave --state out for a first sync",
}


def _problem_named(error: Exception) -> str:
    """What is wrong with an input file, naming where: the protocol models' validation lists each field at fault
    (`streams/0/sync_mode`) on lines after its first."""
    located = [
        f"{item.instance_path or 'the top level'}: {item.message}"
        for item in getattr(error, "errors", None) or []
        if hasattr(item, "instance_path") and hasattr(item, "message")
    ]
    if located:
        more = f" (and {len(located) - 3} more)" if len(located) > 3 else ""
        return "; ".join(located[:3]) + more
    return str(error).splitlines()[0].rstrip(".") if str(error) else type(error).__name__


def _json_problem(path: str) -> str | None:
    """Where a file that is not JSON stops being JSON (the CDK's own line names the file again and says "a valid
    JSON"); None for a file that is JSON, or that cannot be read."""
    try:
        json.loads(input_text(path))
    except json.JSONDecodeError as error:
        return f"it is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
    except (OSError, ValueError):
        pass  # unreadable, or not text: the CDK's reason stands
    return None


def _read_input(kind: str, reader: Any, path: str | None) -> Any:
    if not path:
        return None
    try:
        return reader(path)
    except Exception as error:
        detail = _json_problem(path) or _problem_named(error)
        if kind == "state":
            detail = state_file_problem(path) or detail
        if kind == "catalog":
            detail = catalog_file_problem(path) or detail
        raise AirbyteTracedException(
            message=f"The {kind} file {path} cannot be used: {detail}. {_REMEDIES[kind]}.",
            internal_message=f"unreadable --{kind} file",
            failure_type=FailureType.config_error,
        ) from None


def _noted_stream_error(line: str, failed_streams: set[str], said: set[tuple[str, str]]) -> str | None:
    """Note the stream of an error TRACE; return the line, without its stack trace if it is a config error, or
    None when the stream said the same already (bem reads in two partitions, which fail alike)."""
    message = json.loads(line)
    trace = message.get("trace") or {}
    error = trace.get("error") or {}
    if message.get("type") != "TRACE" or trace.get("type") != "ERROR":
        return line
    stream = (error.get("stream_descriptor") or {}).get("name")
    if stream:
        failed_streams.add(stream)
        if (stream, error.get("message", "")) in said:
            return None
        said.add((stream, error.get("message", "")))
    if error.get("failure_type") != "config_error" or "stack_trace" not in error:
        return line
    error.pop("stack_trace")
    return orjson.dumps(message).decode()


def _without_traceback_for_errors_said_plainly(record: logging.LogRecord) -> bool:
    """A config error is the user's to fix, and a transient one the API's (its retries spent, said as what it
    answered): log its message, not the connector's stack (a failing API's read logged 82 lines of it)."""
    error = record.exc_info[1] if record.exc_info else None
    plain = (FailureType.config_error, FailureType.transient_error)
    if isinstance(error, AirbyteTracedException) and error.failure_type in plain:
        record.msg = f"{record.getMessage()}: {error.message}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
    return True


class _EachErrorOnce(logging.Filter):
    """An ERROR log line said before is not said again, and the CDK's closing summary of the failed streams names
    each failure once: bem reads in two partitions, whose first requests fail alike (a wrong key: two "Exception
    while syncing stream bem_events" lines, and the summary naming the same error twice)."""

    def __init__(self) -> None:
        super().__init__()
        self._said: set[tuple[str, str]] = set()

    def forget(self) -> None:
        self._said.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text.startswith(FAILED_STREAMS):  # airbyte_cdk.exception_handler: a line per exception
            record.msg, record.args = (
                FAILED_STREAMS + "\n".join(dict.fromkeys(text[len(FAILED_STREAMS) :].split("\n"))),
                (),
            )
            return True
        if record.levelno < logging.ERROR:
            return True
        error = record.exc_info[1] if record.exc_info else None
        said = (text, repr(error))
        if said in self._said:
            return False
        self._said.add(said)
        return True


EACH_ERROR_ONCE = _EachErrorOnce()


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
