"""A state message never overtakes the records it covers, whatever the main thread emits meanwhile.

The readers run on worker threads and put their records on the CDK's queue; the main thread writes the queue out,
and emits messages of its own (a stream done, slice logs). The CDK's message repository passes every message
through a list all threads share before the queue; the main thread, draining that list while the queue is full,
writes what it drained ahead of the queued records. A reader's state caught in the list got ahead of its records
(adversary review, 0.5.12): a cursor's messages go onto the queue themselves (source_events.common.checkpoints)."""

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from queue import Empty

from airbyte_cdk.models import Type
from airbyte_cdk.sources.message.repository import InMemoryMessageRepository
from airbyte_cdk.sources.types import Record
from airbyte_cdk.test.state_builder import StateBuilder

from source_events import cdk_contact
from source_events.emulator.datasets import flameup_events
from source_events.source import SourceEvents
from testkit.builders import BEM, FLAMEUP, WORKSPACE, bem_events_in_seconds, catalog, run_read
from testkit.emulator import keys

_T0 = 1_790_000_000
_BOUND = 10  # seconds a test waits at most for what happens at once: a failure, not a pause


class _Window:
    """A window as the CDK hands it to `close_partition`."""

    def __init__(self, window) -> None:
        self._window = window

    def to_slice(self):
        return self._window


def _written_while_the_main_thread_emits(
    source: SourceEvents, read: Callable[[], None], other_stream_done: Callable[[], None], monkeypatch
) -> tuple[list, bool]:
    """`read` (a reader's records onto the queue, then its state) runs on a worker thread. Once its state is in the
    CDK's shared list (the thread switch comes right after the append: the worst moment), or it waits for room in the
    full queue, or it is done, the main thread finishes the other stream (what ConcurrentReadProcessor's
    `_on_stream_is_done` does), then writes the queue out. What was written, in order, and whether a reader's state
    passed through the shared list."""
    queue, main = cdk_contact.queue_of(source), threading.get_ident()
    through_shared_list, go_on = threading.Event(), threading.Event()
    append = InMemoryMessageRepository.emit_message

    def append_then_switch(self, message):
        append(self, message)
        if message.type == Type.STATE and threading.get_ident() != main:
            through_shared_list.set()
            go_on.wait(_BOUND)

    monkeypatch.setattr(InMemoryMessageRepository, "emit_message", append_then_switch)
    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    deadline = time.monotonic() + _BOUND
    # `not_full._waiters`: threads waiting for room (CPython's Condition)
    while not (through_shared_list.wait(0.01) or queue.not_full._waiters or not worker.is_alive()):  # noqa: SLF001
        assert time.monotonic() < deadline, "the reader neither emitted its state nor waited for room"
    other_stream_done()
    written = list(cdk_contact.message_repository_of(source).consume_queue())
    go_on.set()
    while True:  # the writer empties the queue, until the reader is done and nothing is left
        done = not worker.is_alive()
        try:
            written.append(queue.get(timeout=0.01))
        except Empty:
            if done:
                return written, through_shared_list.is_set()
            assert time.monotonic() < deadline + _BOUND, "the reader never finished"


def _resumed_from_each_state(written: list, stream: str, key: str, cfg, everything: set[str]) -> int:
    """A sync killed right after each of `stream`'s states and resumed emits, with what came before, `everything`.
    How many states there were."""
    emitted, states = [], 0
    for message in written:
        if isinstance(message, Record):
            emitted.append(message.data[key])
        elif message.type == Type.STATE and message.state.stream.stream_descriptor.name == stream:
            states += 1
            state = message.state.stream.stream_state.__dict__
            resumed = run_read(cfg, catalog(stream), StateBuilder().with_stream_state(stream, state).build())
            assert everything <= set(emitted) | set(keys(resumed, stream)), f"resumed from {state}, after {emitted}"
    return states


def test_a_bem_readers_state_is_queued_behind_its_page_when_the_main_thread_emits_with_the_queue_full(
    config, bem, http, monkeypatch
):
    bem.events = bem_events_in_seconds({_T0 + 10 * i: 1 for i in range(10)})
    listing = sorted(e["eventID"] for e in bem.events)
    cfg = config.with_flameup().with_bem(page_size=3, lookback_window_seconds=0).build()
    source = SourceEvents(catalog(FLAMEUP, BEM), cfg, None)  # built on the thread that writes the queue out
    streams = {s.name: s for s in source.streams(cfg)}
    cdk_contact.limit_queued_messages(source, 4)  # the page's records, and its estimate, fill it
    cursor = streams[BEM].cursor
    partitions = {s["reader"]: s for s in cursor.stream_slices()}
    records = cursor._retriever.read_records({}, partitions["oldest_first"])  # noqa: SLF001

    def read_one_page():  # what the CDK's PartitionReader does, for one page
        for _ in range(3):
            record = next(records)
            cdk_contact.queue_of(source).put(record)
            cursor.observe(record)
        next(records, None)  # the page handed on: its checkpoint

    written, through_shared_list = _written_while_the_main_thread_emits(
        source, read_one_page, streams[FLAMEUP].cursor.ensure_at_least_one_state_emitted, monkeypatch
    )

    assert [m.data["eventID"] for m in written if isinstance(m, Record)] == listing[:3]
    assert _resumed_from_each_state(written, BEM, "eventID", cfg, set(listing)) == 1
    assert not through_shared_list, "a reader's state passed through the CDK's shared list"


def test_a_flameup_windows_state_is_queued_behind_its_records_when_the_main_thread_emits_with_the_queue_full(
    config, flameup, bem, http, monkeypatch
):
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    flameup.events = flameup_events(3, start + timedelta(hours=1), start + timedelta(hours=5), WORKSPACE, seed=4)
    cfg = config.with_flameup(start_date="2026-11-01T00:00:00Z", page_size=50).with_bem().build()
    source = SourceEvents(catalog(FLAMEUP, BEM), cfg, None)
    streams = {s.name: s for s in source.streams(cfg)}
    cdk_contact.limit_queued_messages(source, 3)  # the window's records fill it
    cursor = streams[FLAMEUP].cursor
    window = next(iter(cursor.stream_slices()))  # at most a page: one window, to now

    def read_the_window():  # what the CDK's PartitionReader does
        for record in cdk_contact.retriever_of(streams[FLAMEUP]).read_records({}, window):
            cdk_contact.queue_of(source).put(record)
            cursor.observe(record)
        cursor.close_partition(_Window(window))

    written, through_shared_list = _written_while_the_main_thread_emits(
        source, read_the_window, streams[BEM].cursor.ensure_at_least_one_state_emitted, monkeypatch
    )

    ids = {e["id"] for e in flameup.events}
    assert {m.data["id"] for m in written if isinstance(m, Record)} == ids
    assert _resumed_from_each_state(written, FLAMEUP, "id", cfg, ids) == 1
    assert not through_shared_list, "a window's state passed through the CDK's shared list"
