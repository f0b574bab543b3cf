"""Each bem reader's next request leaves as soon as it is known, while the records of the answer before are handed
on (source_events.bem.ahead); an answer sent ahead is the reader's only if it still asks for that very request."""

import threading

import pytest

from source_events.bem.ahead import RequestsAhead
from source_events.bem.forward import Request
from source_events.bem.reading import READERS
from source_events.source import SourceEvents
from testkit.builders import BEM, bem_events_in_seconds, catalog
from testkit.emulator import requests_of

_T0 = 1_790_000_000
_BOUND = 10  # seconds a test waits at most for what happens at once: a failure, not a pause


def _bem_retriever_and_partitions(cfg):
    """The bem stream's retriever and its two partitions (the reading started), as the CDK drives them."""
    stream = next(s for s in SourceEvents(catalog(BEM), cfg, None).streams(cfg) if s.name == BEM)
    slices = {s["reader"]: s for s in stream.cursor.stream_slices()}
    assert set(slices) == set(READERS)
    return stream.cursor._retriever, slices


def test_a_readers_next_page_is_requested_while_the_records_of_the_page_before_are_handed_on(config, bem, http):
    bem.events = bem_events_in_seconds({_T0 + i: 1 for i in range(9)})
    second_page_asked = threading.Event()
    answer = bem.list_events

    def list_events(path, query, headers):
        if query.get("sortOrder") == ["asc"] and query.get("limit") == ["3"] and query.get("startingAfter"):
            second_page_asked.set()
        return answer(path, query, headers)

    bem.list_events = list_events
    retriever, partitions = _bem_retriever_and_partitions(config.with_bem(page_size=3).build())
    records = retriever.read_records({}, partitions["oldest_first"])

    first = next(records)  # the first page's first record: the reader is held between its records from here

    assert first["eventID"] == sorted(e["eventID"] for e in bem.events)[0]
    assert second_page_asked.wait(_BOUND), "the second page was not asked for while the first one's were handed on"
    asked = [q for q in requests_of(http, "bem") if q["sortOrder"] == "asc" and q["limit"] == "3"]
    assert [bool(q.get("startingAfter")) for q in asked] == [False, True]
    records.close()


class _Api:
    """A send whose answers the test releases one by one: what was sent, and when each answer may come back."""

    def __init__(self) -> None:
        self.sent: list[Request] = []
        self.release: dict[int, threading.Event] = {}
        self.fail: set[int] = set()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def wait_until_sent(self, count: int) -> None:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.sent) >= count, _BOUND), f"{count} requests never sent"

    def send(self, request: Request) -> str:
        with self._lock:
            number = len(self.sent)
            self.sent.append(request)
            released = self.release.setdefault(number, threading.Event())
            self._arrived.notify_all()
        assert released.wait(_BOUND), f"answer {number} was never released"
        if number in self.fail:
            raise ConnectionError(f"request {number} failed")
        return f"answer {number}"

    def let_through(self, *numbers: int) -> None:
        for number in numbers:
            with self._lock:
                self.release.setdefault(number, threading.Event()).set()


def test_an_answer_sent_ahead_is_the_one_the_reader_gets_and_is_not_sent_again():
    api, page = _Api(), Request("asc", 3, "ev_1")
    ahead = RequestsAhead(api.send)

    ahead.send_ahead(page)  # returns at once: the answer is still held
    api.let_through(0)

    assert ahead.answer(page) == "answer 0"
    assert api.sent == [page]


def test_an_answer_sent_ahead_for_a_request_the_reader_no_longer_asks_for_is_dropped_unread():
    """Should the reader's request change while one travels (no reading does so today: see the module), what it
    asks for now is sent, even a request equal to the one sent ahead (another reader's, or asked again)."""
    api = _Api()
    ahead, stale = RequestsAhead(api.send), Request("asc", 3, "ev_1")
    ahead.send_ahead(stale)
    api.wait_until_sent(1)
    again = Request("asc", 3, "ev_1")
    api.let_through(0, 1)

    assert ahead.answer(again) == "answer 1"
    assert api.sent == [stale, again]


def test_what_sending_ahead_raised_is_raised_when_its_answer_is_wanted():
    api, page = _Api(), Request("desc", 3, "ev_9")
    api.fail.add(0)
    ahead = RequestsAhead(api.send)
    ahead.send_ahead(page)
    api.let_through(0)

    with pytest.raises(ConnectionError, match="request 0 failed"):
        ahead.answer(page)


def test_what_an_answer_dropped_unread_raised_is_dropped_with_it():
    api = _Api()
    api.fail.add(0)
    ahead = RequestsAhead(api.send)
    ahead.send_ahead(Request("desc", 3, "ev_9"))
    api.wait_until_sent(1)
    api.let_through(0, 1)
    now = Request("desc", 3, "ev_5")

    assert ahead.answer(now) == "answer 1"


def test_a_request_on_its_way_never_keeps_the_process_alive():
    """A sync that ends or fails while a request sent ahead travels exits without waiting for its answer."""
    api, before = _Api(), set(threading.enumerate())
    with RequestsAhead(api.send) as ahead:
        ahead.send_ahead(Request("asc", 3))
        api.wait_until_sent(1)
        senders = [t for t in set(threading.enumerate()) - before if t.name == "bem-request-ahead"]

        assert len(senders) == 1 and senders[0].daemon
    api.let_through(0)
    senders[0].join(_BOUND)
    assert not senders[0].is_alive(), "the sender thread outlived its reader"


def test_a_reader_sends_all_its_requests_ahead_on_one_thread_of_its_own():
    """Not a thread a request: a sync of a million events started ten thousand (0.5.11)."""
    api, threads = _Api(), set()
    sent = api.send

    def send(request):
        threads.add(threading.get_ident())
        return sent(request)

    pages = [Request("asc", 3, f"ev_{i}") for i in range(5)]
    api.let_through(*range(len(pages)))
    with RequestsAhead(send) as ahead:
        for page in pages:
            ahead.send_ahead(page)
            assert ahead.answer(page) == f"answer {pages.index(page)}"

    assert api.sent == pages
    assert len(threads) == 1 and threading.get_ident() not in threads
