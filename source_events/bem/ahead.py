"""A reader's next request, sent as soon as it is known: while the reader hands on the records of the answer
before, bem's round trip is already under way. A reader waits for round trips, not for its records' work as well
(0.5.10 sent each request after the page before's records: 0.4–1.3 ms more a round of the two readers at 50 ms
a request, measured at 100,000 and 30,000 events, docs/performance.md).

Still one request of a reader's in flight at a time: the next one leaves once the answer before it was taken. An
answer is the reader's only if it still asks for that very request when it wants it. Today a reader's request
changes only when it takes an answer (a reader started again takes over its partition within that partition's own
answer), so the request sent ahead is always the one asked for; should another reader's answer ever change it,
the answer sent ahead, or what sending it raised, is dropped unread and what the reader asks for now is sent
(a guard: taking an answer to a request the reader no longer asks for would break the reading's rules)."""

import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")


class RequestsAhead(Generic[Request, Answer]):
    """A reader's requests sent ahead, one after another, by a sender thread of the reader's own (started with the
    first one, ended as the reader's `with` block ends). One thread a reader, not one a request (0.5.11): a sync of
    a million events started ten thousand, and peaked at 93.7-98 MB in four runs, against 92.4-94.7 MB in six with
    one a reader (Python 3.13, bench/bench.py --memory's sync)."""

    def __init__(self, send: Callable[[Request], Answer]) -> None:
        self._send = send
        self._ahead: _Sent[Request, Answer] | None = None
        self._to_send: queue.SimpleQueue[_Sent[Request, Answer] | None] = queue.SimpleQueue()
        self._sender: threading.Thread | None = None

    def send_ahead(self, request: Request) -> None:
        """Send `request` now, on the sender thread; its answer waits for `answer(request)`."""
        if self._sender is None:
            # a daemon: a sync that ends or fails meanwhile never waits for an answer nobody will read (a request's
            # own timeout ends it)
            self._sender = threading.Thread(target=self._send_each, name="bem-request-ahead", daemon=True)
            self._sender.start()
        self._ahead = _Sent(request)
        self._to_send.put(self._ahead)
        # The sender thread, woken, needs the interpreter's lock, which the caller holds while it hands on the answer
        # before's records: it would wait until the caller blocks or is made to let go (up to 5 ms, the switch
        # interval). Letting go here sends the request first: 1 ms less a round trip of the two readers at 50 ms,
        # median (bench/bench.py --bem's turnaround; 0.5.14).
        time.sleep(0)

    def answer(self, request: Request) -> Answer:
        """The answer to `request`: the one sent ahead if it is this very request (waiting for it), else sent now.
        Raises what sending it raised, as if it were sent now."""
        sent, self._ahead = self._ahead, None
        if sent is None or sent.request is not request:
            return self._send(request)
        return sent.answer()

    def __enter__(self) -> "RequestsAhead[Request, Answer]":
        return self

    def __exit__(self, *exc: object) -> None:
        """The reader is done: the sender thread ends once what it is sending, if anything, is answered."""
        if self._sender is not None:
            self._to_send.put(None)

    def _send_each(self) -> None:
        while (sent := self._to_send.get()) is not None:
            sent.send_with(self._send)


class _Sent(Generic[Request, Answer]):
    """One request sent ahead, and once it is answered, its answer or what sending it raised."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self._answered = threading.Event()
        self._answer: Answer | None = None
        self._error: BaseException | None = None

    def send_with(self, send: Callable[[Request], Answer]) -> None:
        try:
            self._answer = send(self.request)
        except BaseException as error:  # the reader's to raise, when it wants this answer
            self._error = error
        finally:
            self._answered.set()

    def answer(self) -> Answer:
        self._answered.wait()
        if self._error is not None:
            raise self._error
        return self._answer  # type: ignore[return-value]
