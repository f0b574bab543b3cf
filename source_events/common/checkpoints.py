"""What both cursors share: where state goes and how it is emitted, the error for an unusable saved state,
the sync's estimate of each stream's rows (ESTIMATE trace messages, which the Airbyte UI draws as progress),
and progress logging during a long read (source_events.common.progress).

Both cursors emit state onto the queue the records go through (QueuedInOrder): the concurrent reader puts each
record on the queue before calling `observe`, and calls `close_partition` after the last one, so a state message
never overtakes the records it covers.
"""

import copy
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from queue import Queue
from typing import Any

from airbyte_cdk.models import (
    AirbyteEstimateTraceMessage,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteTraceMessage,
    EstimateType,
    FailureType,
    Level,
    TraceType,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import LogMessage, MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.types import Record

from source_events.common.errors import UserFacingError
from source_events.common.progress import ReadProgress
from source_events.manifest import stream_sections

LOGGER = logging.getLogger("airbyte")


class QueuedInOrder(MessageRepository):
    """The source's message repository as the cursors use it: a message emitted on a reader thread goes onto the
    queue itself, behind the records that thread put there before it.

    The CDK's ConcurrentMessageRepository appends each message to a list all threads share, then drains that list
    onto the queue. The main thread, draining it for a message of its own (another stream done, a slice log) while
    the queue is full, sets aside what it drained and writes it out before the records waiting in the queue: a
    reader's state caught in that list between its append and its drain got ahead of the records it covers, and a
    sync killed right after it lost them (adversary review, 0.5.12). On the main thread the CDK's path stays: it
    must not block there, on a queue only it empties."""

    def __init__(self, queue: "Queue[Any]", repository: MessageRepository) -> None:
        self._queue, self._repository = queue, repository
        self._main_thread = threading.get_ident()  # the one that empties the queue: the CDK assumes the same

    def emit_message(self, message: AirbyteMessage) -> None:
        if threading.get_ident() == self._main_thread:
            self._repository.emit_message(message)
        else:
            self._queue.put(message)

    def log_message(self, level: Level, message_provider: Callable[[], LogMessage]) -> None:
        self._repository.log_message(level, message_provider)

    def consume_queue(self) -> Iterable[AirbyteMessage]:
        return self._repository.consume_queue()


def state_error(stream_name: str, detail: str) -> UserFacingError:
    return UserFacingError(
        message=(
            f"The saved state of stream {stream_name} is unusable ({detail}). Reset the stream's state "
            "(in Airbyte: the stream's 'Clear data'), or pass a state written by this connector."
        ),
        internal_message=f"invalid state for {stream_name}: {detail}",
        failure_type=FailureType.config_error,
    )


# the key of a saved state that holds the settings it was read under (the config's `state_scope()`)
SCOPE_KEY = "read_with"
# settings (ISO date-times) that read less the later they are: a state read from an earlier one covers this one's
READS_LESS_WHEN_LATER = ("start_date",)
# settings a state names since 0.5.17: one saved before names none of them, and is taken as read under these ones
# (else every connection would read its history again after the upgrade)
NAMED_SINCE_0_5_17 = ("base_url",)


def saved_for_scope(
    stream_name: str, stream_state: Mapping[str, Any], scope: Mapping[str, Any]
) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """The saved state if it was read under settings that cover what `scope`'s read, else nothing (the stream reads
    from its start, said in a warning); and the settings the next states are saved with.

    A connection's settings edited in place keep its state. One saved under another workspace, other filters or a
    later start date says nothing of the events these settings add: resumed from, it would skip their history for
    good. Reading again what was read costs time, and a deduplicating destination folds it. A state that names no
    settings (before 0.5.15) is taken as it is."""
    state = {key: value for key, value in (stream_state or {}).items() if key != SCOPE_KEY}
    saved = (stream_state or {}).get(SCOPE_KEY)
    if saved is None:
        return state, dict(scope)
    saved = saved if isinstance(saved, Mapping) else {}
    if saved:
        saved = {**{name: scope.get(name) for name in NAMED_SINCE_0_5_17}, **saved}
    changed = [name for name in sorted(set(scope) | set(saved)) if not _covers(name, saved.get(name), scope.get(name))]
    if not changed:
        # the next states say these settings: a later start date read from here may leave a gap after the state's
        # position (it starts past it), so moved back, it must not pass for the earlier one (adversary review)
        return state, dict(scope)
    section = stream_sections().get(stream_name, "")
    LOGGER.warning(
        f"Stream {stream_name}: its saved state was read with other settings "
        f"({', '.join(f'`{section}.{name}`' for name in changed)} changed since), so it does not say what these "
        "settings read: the stream reads from its start, and the events read before come again (a deduplicating "
        "destination folds them)."
    )
    return {}, dict(scope)


def _covers(name: str, saved: Any, wanted: Any) -> bool:
    if name in READS_LESS_WHEN_LATER and isinstance(saved, str) and isinstance(wanted, str):
        return saved <= wanted  # one format (format_timestamp): in time order as text
    return saved == wanted


class CheckpointingCursor(Cursor):
    """What both cursors share: where state goes and how it is emitted (with the settings it is read under:
    saved_for_scope), and progress logging."""

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
    ) -> None:
        self._scope: dict[str, Any] = {}  # the settings each state is saved with (_resumed_from)
        self._stream_name = stream_name
        self.cursor_field = cursor_field
        self._message_repository = message_repository
        self._connector_state_manager = connector_state_manager
        self._lock = threading.Lock()
        self._progress = ReadProgress(stream_name, log=self._log_info)
        self._estimated: int | None = None  # the last row estimate sent
        self._last_emitted: Any = object()  # the last state emitted (none yet)

    def _resumed_from(self, stream_state: Mapping[str, Any], scope: Mapping[str, Any]) -> Mapping[str, Any]:
        """The saved state this sync resumes from, under these settings (saved_for_scope)."""
        state, self._scope = saved_for_scope(self._stream_name, stream_state, scope)
        return state

    def _log_info(self, text: str) -> None:
        # through the message repository: the main thread writes it, between records, never inside one
        self._message_repository.emit_message(
            AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=text))
        )

    def _estimate(self, rows: int | None) -> None:
        """Tell the platform how many rows this stream's sync will read, about: the API's own count (Flameup's
        `total`, bem's `totalCount`, hints that never end a read), raised to the rows read when they pass it.
        Sent again only when it changed."""
        if rows is None or rows < 0:
            return
        rows = max(rows, self._progress.records)
        if rows == self._estimated:
            return
        self._estimated = rows
        self._progress.estimate = rows
        self._message_repository.emit_message(
            AirbyteMessage(
                type=Type.TRACE,
                trace=AirbyteTraceMessage(
                    type=TraceType.ESTIMATE,
                    emitted_at=time.time() * 1000,
                    estimate=AirbyteEstimateTraceMessage(
                        name=self._stream_name, type=EstimateType.STREAM, row_estimate=rows
                    ),
                ),
            )
        )

    def _refresh_estimate(self) -> None:
        """Once the rows read pass the estimate, it was low: raise it to them."""
        if self._estimated is not None and self._progress.records > self._estimated:
            self._estimate(self._progress.records)

    def _emit_state(self) -> None:
        state = self.state
        if state:
            state = {**state, SCOPE_KEY: self._scope}
        if state == self._last_emitted:
            return  # the same checkpoint again (a partition closing after its last page's): nothing new to save
        self._last_emitted = copy.deepcopy(state)
        self._connector_state_manager.update_state_for_stream(self._stream_name, None, state)
        self._message_repository.emit_message(
            self._connector_state_manager.create_state_message(self._stream_name, None)
        )

    def ensure_at_least_one_state_emitted(self) -> None:
        # the CDK calls this when the stream is done
        self._progress.stop()
        with self._lock:
            self._emit_state()

    def stop(self) -> None:
        """The sync stopped reading (it ended, or failed): nothing may wait on this cursor any longer."""

    def should_be_synced(self, record: Record) -> bool:
        return True
