"""The newest-first reader's first page taken only after the oldest-first reader's position vanished (that
partition started late: a loaded machine). Replays test_a_whole_page_deleted_mid_sync_loses_nothing's flake."""

import threading

from source_events.bem.reading import BemReading
from source_events.bem.state import BemState
from source_events.emulator import BemApi, BemBehaviour
from testkit.builders import BEM, BEM_KEY, bem_answer, bem_events_in_seconds, catalog, record_ids, run_read

_T0 = 1_790_000_000


def _setup(bem):
    bem.behaviour = BemBehaviour(unknown_cursor="reject")
    bem.events = bem_events_in_seconds({_T0 + s: 1 for s in range(60)}, seed=17)
    listed = sorted(e["eventID"] for e in bem.events)
    # the second page, served after listed[8] (the first page's position, before its last second): deleted whole
    return listed, [e for e in bem.events if not listed[9] <= e["eventID"] <= listed[18]]


def test_no_threads_the_oldest_first_reader_vanishes_before_the_other_reads_its_top_page():
    bem = BemApi(BEM_KEY, events=[])
    listed, kept = _setup(bem)
    reading, emitted, deleted = BemReading(BemState(), page_size=10, lookback_seconds=60), [], False
    for partition in ("oldest_first", "newest_first"):  # one after the other: the second starts late
        while (request := reading.request(partition)) is not None:
            emitted += reading.take(partition, bem_answer(bem, request))
            if request.sort_order == "asc" and request.starting_after == listed[8] and not deleted:
                bem.events[:], deleted = kept, True  # the whole page it was just served is deleted
    assert deleted
    assert set(listed[:9] + listed[19:]) <= set(emitted)


def test_through_the_cdk_the_newest_first_partition_takes_its_first_answer_late(config, bem, http, monkeypatch):
    listed, kept = _setup(bem)
    answer, vanished = bem.list_events, threading.Event()

    def list_events(path, query, headers):
        response = answer(path, query, headers)
        if query.get("sortOrder") == ["asc"] and query.get("startingAfter") == [listed[8]]:
            bem.events[:] = kept
        return response

    bem.list_events = list_events
    take = BemReading.take

    def late_take(self, partition, response):  # outside requests-mock's lock: the other partition goes on
        if partition == "newest_first":
            assert vanished.wait(10)
        taken = take(self, partition, response)
        if self._forward.vanished:
            vanished.set()
        return taken

    monkeypatch.setattr(BemReading, "take", late_take)

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    emitted = record_ids(output, BEM, "eventID")
    missing = sorted(set(listed[:9] + listed[19:]) - set(emitted))
    assert not missing, f"{len(missing)} lost: listed[{listed.index(missing[0])}..{listed.index(missing[-1])}]"
