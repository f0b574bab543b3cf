"""The console entrypoint: `source-events spec|check|discover|read`, speaking the Airbyte protocol on stdout."""

import sys
import traceback
from datetime import datetime, timezone
from typing import Any, List, Mapping

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    TraceType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from orjson import orjson

from source_events.source import SourceEvents


def _create_source(args: List[str]) -> SourceEvents:
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    config_path = AirbyteEntrypoint.extract_config(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceEvents(
        catalog=SourceEvents.read_catalog(catalog_path) if catalog_path else None,
        config=SourceEvents.read_config(config_path) if config_path else None,
        state=SourceEvents.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def run(args: List[str] = None) -> None:
    args = sys.argv[1:] if args is None else args
    try:
        source = _create_source(args)
    except Exception as error:  # the protocol wants a TRACE message, not a traceback, on stdout
        _print_startup_error(error)
        sys.exit(1)
    launch(source, args)


def _print_startup_error(error: Exception) -> None:
    message = error.message if isinstance(error, AirbyteTracedException) and error.message else (
        f"source-events could not start: {error}"
    )
    trace = AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(message=message, stack_trace=traceback.format_exc()),
        ),
    )
    print(orjson.dumps(AirbyteMessageSerializer.dump(trace)).decode())
