"""A bem state says where each reader stands only once every record it counts on was handed on: the records of
its own answers, and those of events it read and left to the other reader, which read them first (a reader never
emits an event twice: source_events.bem.meeting). Both readers run at once, in two partitions; here the test
drives the two partitions' records itself, holding one reader mid-page while the other reads."""

from queue import Empty

from airbyte_cdk.models import Type
from airbyte_cdk.test.state_builder import StateBuilder

from source_events import cdk_contact
from source_events.bem.reading import READERS
from source_events.source import SourceEvents
from testkit.builders import BEM, bem_events_in_seconds, catalog, run_read
from testkit.emulator import keys

_T0 = 1_790_000_000


class _HeldSync:
    """A first bem sync, in pages of 5, whose partitions the test reads record by record. By default 8 events in
    one second: no reader settles anything while the other reads, so the two readers' pages overlap and are read
    whole."""

    def __init__(self, config, bem, seconds: dict[int, int] | None = None) -> None:
        bem.events = bem_events_in_seconds(seconds or {_T0: 8})
        self.listing = sorted(e["eventID"] for e in bem.events)
        self.config = config.with_bem(page_size=5).build()
        self._source = SourceEvents(catalog(BEM), self.config, None)
        stream = next(s for s in self._source.streams(self.config) if s.name == BEM)
        slices = {s["reader"]: s for s in stream.cursor.stream_slices()}
        assert set(slices) == set(READERS)
        retriever = stream.cursor._retriever  # noqa: SLF001
        self.readers = {reader: retriever.read_records({}, slices[reader]) for reader in READERS}
        self.emitted: list[str] = []
        self.written: list[tuple[dict, list[str]]] = []  # each state, and the events emitted before it

    def hand_on(self, reader: str, count: int | None = None) -> None:
        """`count` more records of `reader` (all it has left: None)."""
        while count is None or count > 0:
            before = list(self.emitted)  # a state written while this record was fetched came before it
            record = next(self.readers[reader], None)
            self.written.extend((state, before) for state in self._states_emitted())
            if record is None:
                return
            self.emitted.append(record["eventID"])
            count = None if count is None else count - 1

    def _states_emitted(self) -> list[dict]:
        """The bem states the cursor emitted since the last look (they wait on the CDK's queue with the logs)."""
        queue, states = cdk_contact.queue_of(self._source), []
        while True:
            try:
                message = queue.get_nowait()
            except Empty:
                return states
            if getattr(message, "type", None) == Type.STATE and message.state.stream.stream_descriptor.name == BEM:
                states.append(dict(message.state.stream.stream_state.__dict__))

    def assert_every_state_resumes_to_every_event(self) -> None:
        """A sync killed right after any state written, and resumed from it, emits every event."""
        assert sorted(self.emitted) == self.listing
        for state, before in self.written:
            resumed = run_read(self.config, catalog(BEM), StateBuilder().with_stream_state(BEM, state).build())
            assert set(self.listing) <= set(before) | set(keys(resumed, BEM)), f"resumed from {state}"


def _oldest_first_position(state: dict) -> str | None:
    return (state.get("reading") or {}).get("oldest_first", {}).get("starting_after")


def test_a_state_never_counts_on_records_the_other_reader_has_not_handed_on_yet(config, bem, http):
    """The newest-first reader takes the top page and is held while it hands on its records; meanwhile the
    oldest-first reader's first page ends among those same events (read by the other: not emitted twice). 0.5.10
    and 0.5.11 wrote the oldest-first reader's position at once: resumed there, that reader read on above it, the
    newest-first one met it at the top, and the events left to the held reader were never emitted (found by CI)."""
    sync = _HeldSync(config, bem)

    sync.hand_on("newest_first", 1)  # it took the top 5 and handed on one: it is held here
    sync.hand_on("oldest_first")
    assert sync.emitted[1:] == sync.listing[:3], "the oldest-first reader emits the events under the other's page"
    assert not any(_oldest_first_position(state) for state, _ in sync.written)
    sync.hand_on("newest_first")

    assert any(_oldest_first_position(state) for state, _ in sync.written)
    sync.assert_every_state_resumes_to_every_event()


def test_a_readers_position_waits_only_for_answers_the_other_reader_took_before(config, bem, http):
    """The oldest-first reader takes its page first, then the newest-first one takes the top page (and leaves to
    the other the events both pages hold) and is held: the oldest-first reader's position is written as soon as
    its own records are handed on, since nothing of the held page was left to it."""
    sync = _HeldSync(config, bem)

    sync.hand_on("oldest_first", 1)  # it took the bottom 5: everything it read is its own
    sync.hand_on("newest_first", 1)  # it took the top 5 after: the 3 both pages hold are the other's
    sync.hand_on("oldest_first", 4)
    sync.hand_on("oldest_first", 1)  # its first page handed on, it takes the second one (or confirms the end)

    # its page is one second: it asks after its last ID, [4]; a state names the page's first, further back (the
    # answer to a resumed reader comes without the page to check it against: source_events.bem.anchor)
    assert _oldest_first_position(sync.written[-1][0]) == sync.listing[0]
    sync.hand_on("oldest_first")
    sync.hand_on("newest_first")
    sync.assert_every_state_resumes_to_every_event()


def test_a_readers_position_waits_only_once_it_left_events_to_the_other_reader(config, bem, http):
    """The newest-first reader takes the top page and is held; the oldest-first reader's pages below it hold
    nothing the held one read, and each one's position is written as it is handed on. Only its page that reaches
    the held page waits for it (0.5.12's first fix made every page of the other wait: under load, a sync of 12
    pages wrote 3 states)."""
    sync = _HeldSync(config, bem, {_T0 + 100 * i: 1 for i in range(30)})  # far apart: each second settles at once

    sync.hand_on("newest_first", 1)  # it took the top 5 and handed on one: it is held here
    sync.hand_on("oldest_first")

    written_while_held = [_oldest_first_position(state) for state, _ in sync.written]
    # each page resumes before its last second: [0..4] after [3], [4..8] after [7], ...; a state names the ID before
    # that one, further back (source_events.bem.anchor): [2], [6], ...
    assert [sync.listing[i] for i in (2, 6, 10, 14)] == [p for p in written_while_held if p][:4]
    sync.hand_on("newest_first")
    sync.assert_every_state_resumes_to_every_event()
