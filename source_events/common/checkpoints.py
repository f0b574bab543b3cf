"""What both cursors share: where state goes and how it is emitted, the error for an unusable saved state,
and progress logging during a long read.

Both cursors emit state through the source's message repository, which shares one queue with the records:
the concurrent reader puts each record on the queue before calling `observe`, and calls `close_partition`
after the last one, so a state message never overtakes the records it covers.
"""

import logging
import threading
import time

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.types import Record
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

LOGGER = logging.getLogger("airbyte")


def state_error(stream_name: str, detail: str) -> AirbyteTracedException:
    return AirbyteTracedException(
        message=(
            f"The saved state of stream {stream_name} is unusable ({detail}). Reset the stream's state "
            "(in Airbyte: the stream's 'Clear data'), or pass a state written by this connector."
        ),
        internal_message=f"invalid state for {stream_name}: {detail}",
        failure_type=FailureType.config_error,
    )


class ReadProgress:
    """Logs how far a long read has come, per stream, at most every INTERVAL_SECONDS.

    The clock is looked at every CHECK_EVERY records only, to keep the per-record cost at a counter.
    """

    INTERVAL_SECONDS = 30.0
    CHECK_EVERY = 1000

    def __init__(self, stream_name: str) -> None:
        self._stream_name = stream_name
        self._count = 0
        self._started = time.monotonic()
        self._next_log = self._started + self.INTERVAL_SECONDS

    def count(self) -> None:
        self._count += 1
        if self._count % self.CHECK_EVERY == 0 and time.monotonic() >= self._next_log:
            elapsed = time.monotonic() - self._started
            LOGGER.info(
                f"Stream {self._stream_name}: {self._count:,} records read in {elapsed:,.0f} s ({self._count / elapsed:,.0f} records/s)"
            )
            self._next_log = time.monotonic() + self.INTERVAL_SECONDS


class CheckpointingCursor(Cursor):
    """What both cursors share: where state goes and how it is emitted, and progress logging."""

    def __init__(
        self,
        stream_name: str,
        cursor_field: str,
        message_repository: MessageRepository,
        connector_state_manager: ConnectorStateManager,
    ) -> None:
        self._stream_name = stream_name
        self.cursor_field = cursor_field
        self._message_repository = message_repository
        self._connector_state_manager = connector_state_manager
        self._lock = threading.Lock()
        self._progress = ReadProgress(stream_name)

    def _emit_state(self) -> None:
        self._connector_state_manager.update_state_for_stream(self._stream_name, None, self.state)
        self._message_repository.emit_message(
            self._connector_state_manager.create_state_message(self._stream_name, None)
        )

    def ensure_at_least_one_state_emitted(self) -> None:
        with self._lock:
            self._emit_state()

    def should_be_synced(self, record: Record) -> bool:
        return True
