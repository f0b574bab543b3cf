"""The console entrypoint: `source-events spec|check|discover|read`, speaking the Airbyte protocol on stdout."""

import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.entrypoint import PRINT_BUFFER, AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    TraceType,
    Type,
)
from airbyte_cdk.sources.utils.schema_helpers import split_config
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
    def validate_connection(source_spec: Any, config: Mapping[str, Any]) -> None:
        connector_config, _ = split_config(config)
        parse_config(connector_config)
        AirbyteEntrypoint.validate_connection(source_spec, config)


def _create_source(args: list[str]) -> SourceEvents:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceEvents(
        catalog=SourceEvents.read_catalog(catalog_path) if catalog_path else None,
        config=SourceEvents.read_config(config_path) if config_path else None,
        state=SourceEvents.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def run(args: list[str] = None) -> None:
    args = sys.argv[1:] if args is None else args
    if args[:1] == ["demo"]:
        from source_events.demo import main as demo

        sys.exit(demo(args[1:]))
    try:
        source = _create_source(args)
    except Exception as error:  # the protocol wants a TRACE message, not a traceback, on stdout
        _print_startup_error(error)
        sys.exit(1)
    entrypoint = EventsEntrypoint(source)
    parsed_args = entrypoint.parse_args(args)
    with PRINT_BUFFER:
        for message in entrypoint.run(parsed_args):
            # one write per message: the concurrent reader's threads must not interleave lines
            print(f"{message}\n", end="")


def _print_startup_error(error: Exception) -> None:
    message = (
        error.message
        if isinstance(error, AirbyteTracedException) and error.message
        else (f"source-events could not start: {error}")
    )
    trace = AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(UTC).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(message=message, stack_trace=traceback.format_exc()),
        ),
    )
    print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode())
