"""bem's incremental cursor: the CDK's side of BemReading. Two slices, one per reader (oldest first, newest
first), and state is whatever the reading says, emitted after every page of either and at the end."""

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.bem.reading import READERS, BemReading
from source_events.bem.retriever import BemRetriever
from source_events.bem.state import BemState
from source_events.common.checkpoints import CheckpointingCursor, state_error


class BemCursor(CheckpointingCursor):
    """State: source_events.bem.state (`eventID`, `starting_after`, and `reading` while a sync reads).
    Reading: source_events.bem.reading."""

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        retriever: BemRetriever,
        page_size: int,
        lookback_seconds: int,
        stream_state: Mapping[str, Any],
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
        scope: Mapping[str, Any],
    ) -> None:
        super().__init__(stream_name, cursor_field, message_repository, connector_state_manager)
        try:
            self._saved = BemState.from_saved(self._resumed_from(stream_state, scope))
        except ValueError as error:
            raise state_error(stream_name, str(error)) from None
        self._retriever = retriever
        self._page_size = page_size
        self._lookback = lookback_seconds
        self._reading: BemReading | None = None

    @classmethod
    def create(
        cls, *, stream_name: str, cursor_field: str, settings: Any, retriever: BemRetriever, **kwargs: Any
    ) -> "BemCursor":
        return cls(
            stream_name,
            cursor_field,
            retriever=retriever,
            page_size=settings.bem.page_size,
            lookback_seconds=settings.bem.lookback_window_seconds,
            scope=settings.bem.state_scope(),
            **kwargs,
        )

    @property
    def state(self) -> MutableMapping[str, Any]:
        current = self._reading.state if self._reading else self._saved
        if current.eventID is None and current.starting_after is None and current.reading is None:
            return {}
        return current.to_saved()

    def stream_slices(self) -> Iterable[StreamSlice]:
        self._progress.start()
        self._reading = BemReading(self._saved, self._page_size, self._lookback)
        self._retriever.start(self._reading, checkpoint=self._checkpoint)
        for reader in READERS:
            yield StreamSlice(partition={}, cursor_slice={"reader": reader})

    def _checkpoint(self) -> None:
        with self._lock:
            if self._reading is not None and self._reading.listing_count is not None:
                self._estimate(self._reading.listing_count)
            self._refresh_estimate()
            self._emit_state()

    def observe(self, record: Record) -> None:
        self._progress.count()

    def close_partition(self, partition: Partition) -> None:
        with self._lock:
            self._emit_state()
