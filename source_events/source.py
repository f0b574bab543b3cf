"""SourceEvents: the manifest's streams, their incremental cursors, and a check that names the setting to fix."""

from __future__ import annotations

import copy
import importlib
import json
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    Status,
    SyncMode,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.stream_slicers.declarative_partition_generator import (
    StreamSlicerPartitionGenerator,
)
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import CursorField
from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events import cdk_contact
from source_events.catalog import refuse_streams_not_provided
from source_events.check import check_stream
from source_events.common import deadline
from source_events.common.budget import build_pacing_budget
from source_events.common.checkpoints import CheckpointingCursor, QueuedInOrder
from source_events.common.redirects import refuse_redirects_elsewhere
from source_events.input_files import input_text
from source_events.manifest import manifest, stream_sections, with_spec_defaults

if TYPE_CHECKING:
    from source_events.config import EventsConfig

# Records waiting between the readers and the thread that writes them out. The CDK allows 10,000: when
# writing is the slower side (it is, on a fast API) the queue fills, and ~15 MB of parsed records sit in
# it. A thousand keep every reader busy (bench/bench.py measures the same throughput) at a tenth of that.
QUEUED_MESSAGES_MAX = 1_000


class SourceEvents(ConcurrentDeclarativeSource):
    """The manifest's streams (source_events/manifest.yaml), each around its own cursor, and a `check` that names
    the setting to fix."""

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        config_path: str | None = None,
    ) -> None:
        self._config_with_defaults = with_spec_defaults(config) or {}  # what `settings` parses: as the CDK reads it
        super().__init__(
            catalog=catalog or ConfiguredAirbyteCatalog(streams=[]),
            config=self._config_with_defaults,
            state=_without_full_refresh_states(state or [], catalog),
            # a copy: the CDK resolves references into the mapping it is given, and the manifest is parsed once
            source_config=_with_request_timeouts(copy.deepcopy(manifest()), self._config_with_defaults),
            config_path=config_path,
        )
        self._cursors: list[CheckpointingCursor] = []  # those the streams were built with, told when the read stops
        build_pacing_budget(cdk_contact.component_factory_of(self))
        cdk_contact.limit_queued_messages(self, QUEUED_MESSAGES_MAX)
        cdk_contact.release_component_schema(self)  # read only while the source was built
        # what the cursors emit: a reader's state goes onto the queue behind its records
        self._cursor_messages = QueuedInOrder(cdk_contact.queue_of(self), cdk_contact.message_repository_of(self))

    # The input files, read as the CDK's BaseConnector and Source read them, but through source_events.input_files:
    # the CDK reads each again after the connector did, and a pipe (`--config <(…)`) gives the same text again.
    @staticmethod
    def _read_json_file(file_path: str) -> Any:
        try:
            return json.loads(input_text(file_path))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"Could not read json file {file_path}: {error}. Please ensure that it is a valid JSON."
            ) from None

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        config = SourceEvents._read_json_file(config_path)
        if isinstance(config, MutableMapping):
            return config
        raise ValueError(f"The content of {config_path} is not an object and therefore is not a valid config.")

    @classmethod
    def read_state(cls, state_path: str | None) -> list[AirbyteStateMessage]:
        if not state_path:
            return []
        states = [AirbyteStateMessageSerializer.load(state) for state in cls._read_json_file(state_path) or []]
        if any(not (state.stream or state.data or state.global_) for state in states):
            raise ValueError("AirbyteStateMessage should contain either a stream, global, or state field")
        return states

    @cached_property
    def settings(self) -> EventsConfig:
        """The config this source was built with, parsed once for the whole command (the entrypoint's check of the
        config, the catalog's, the streams' cursors); raises a config_error naming the setting to fix."""
        # imported here: building its pydantic models takes 0.1 s, which `spec` (no config) does not need
        from source_events.config import parse_config

        return parse_config(self._config_with_defaults)

    def streams(self, config: Mapping[str, Any]) -> list[AbstractStream]:  # type: ignore[override]
        # like the CDK's, built from the config the source was built with (the CDK passes that one)
        streams = super().streams(config)
        for stream in streams:
            if isinstance(stream, DefaultStream):
                requester = cdk_contact.retriever_of(stream).requester
                session = cdk_contact.session_of(requester)
                deadline.bound(session)  # each answer within a deadline as a whole, not only byte to byte
                refuse_redirects_elsewhere(session, stream_sections()[stream.name])
                # the failure is said by the stream's error, in a line that names what the API answered
                cdk_contact.without_the_retries_spent_traceback(requester.logger)
        return [self._with_incremental_cursor(stream, self.settings) for stream in streams]

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read, after refusing a catalog stream this config does not provide (before any request)."""
        refuse_streams_not_provided([s.stream.name for s in catalog.streams], self.settings)
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            for cursor in self._cursors:  # a thread waiting on a cursor would keep the process from exiting
                cursor.stop()

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """One cheap request per configured API; each API's failure is reported with the setting to fix (a user
        with two wrong keys learns of both at once)."""
        try:
            streams = self.streams(config)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        failures = []
        for stream in streams:
            failure = check_stream(stream, cdk_contact.retriever_of(stream).requester, logger)
            if failure:
                failures.append(failure)
        if failures:
            return AirbyteConnectionStatus(status=Status.FAILED, message=" ".join(failures))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _with_incremental_cursor(self, stream: AbstractStream, settings: EventsConfig) -> AbstractStream:
        """Rebuild a manifest stream around the cursor declared for it under `definitions.incremental_cursors`.

        The retriever, schema and partition factory are the ones the CDK built from the manifest; only the
        cursor, which also slices the stream, is ours.
        """
        declared = self.resolved_manifest["definitions"]["incremental_cursors"].get(stream.name)
        if declared is None or not isinstance(stream, DefaultStream):
            return stream
        partition_factory = cdk_contact.partition_factory_of(stream)
        cursor = self._create_cursor(stream.name, declared, settings, cdk_contact.retriever_of(stream))
        airbyte_stream = stream.as_airbyte_stream()
        return DefaultStream(
            partition_generator=StreamSlicerPartitionGenerator(partition_factory, cursor),
            name=stream.name,
            json_schema=stream.get_json_schema,
            primary_key=[path[0] for path in airbyte_stream.source_defined_primary_key or []],
            cursor_field=CursorField(declared["cursor_field"]),
            logger=logging.getLogger(f"airbyte.{stream.name}"),
            cursor=cursor,
        )

    def _create_cursor(
        self, stream_name: str, declared: Mapping[str, Any], settings: EventsConfig, retriever: Any
    ) -> CheckpointingCursor:
        module_name, class_name = declared["class_name"].rsplit(".", 1)
        cursor_class = getattr(importlib.import_module(module_name), class_name)
        cursor = cursor_class.create(
            stream_name=stream_name,
            cursor_field=declared["cursor_field"],
            settings=settings,
            retriever=retriever,
            stream_state=cdk_contact.state_manager_of(self).get_stream_state(stream_name, None),
            message_repository=self._cursor_messages,
            connector_state_manager=cdk_contact.state_manager_of(self),
        )
        self._cursors.append(cursor)
        return cursor


# each API's requester, and the config section whose `request_timeout_seconds` bounds its requests
_REQUESTERS = {"flameup": "flameup_requester", "bem": "bem_requester"}
# a connection that takes longer than this is not coming (the read timeout bounds each wait for data)
CONNECT_TIMEOUT_SECONDS = 10.0


def _with_request_timeouts(declared: dict[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest with each API's requester bounded by its `request_timeout_seconds`: the HttpRequester takes
    its timeouts as numbers only (not templates), so they are written into the manifest read as data."""
    for section, requester in _REQUESTERS.items():
        settings = config.get(section)
        timeout = settings.get("request_timeout_seconds") if isinstance(settings, Mapping) else None
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            declared["definitions"][requester]["read_timeout_in_seconds"] = float(timeout)
            declared["definitions"][requester]["connect_timeout_in_seconds"] = min(
                float(timeout), CONNECT_TIMEOUT_SECONDS
            )
    return declared


def _without_full_refresh_states(
    states: list[AirbyteStateMessage], catalog: ConfiguredAirbyteCatalog | None
) -> list[AirbyteStateMessage]:
    """A stream the catalog reads in full refresh reads everything, whatever state is passed: the CDK resumed it from
    its state (fresh-clone review: 13 records of 1,013, which an `overwrite` destination would have kept alone).
    Airbyte passes none for such a stream; a state passed by hand is said and left out."""
    whole = {
        configured.stream.name
        for configured in (catalog.streams if catalog else [])
        if configured.sync_mode == SyncMode.full_refresh
    }
    dropped = [s for s in states if s.stream is not None and s.stream.stream_descriptor.name in whole]
    for state in dropped:
        logging.getLogger("airbyte").info(
            f"Stream {state.stream.stream_descriptor.name} is read in full refresh: the state passed for it is not "
            "used (an incremental read resumes from it)."
        )
    return [s for s in states if s not in dropped]
