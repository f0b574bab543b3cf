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

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Request = TypeVar("Request")
Answer = TypeVar("Answer")


class RequestsAhead(Generic[Request, Answer]):
    def __init__(self, send: Callable[[Request], Answer]) -> None:
        self._send = send
        self._ahead: _Sent[Request, Answer] | None = None

    def send_ahead(self, request: Request) -> None:
        """Send `request` now, on a thread of its own; its answer waits for `answer(request)`."""
        self._ahead = _Sent(self._send, request)

    def answer(self, request: Request) -> Answer:
        """The answer to `request`: the one sent ahead if it is this very request (waiting for it), else sent now.
        Raises what sending it raised, as if it were sent now."""
        sent, self._ahead = self._ahead, None
        if sent is None or sent.request is not request:
            return self._send(request)
        return sent.answer()


class _Sent(Generic[Request, Answer]):
    """One request on its way. A daemon thread: a sync that ends or fails meanwhile never waits for an answer
    nobody will read (a request's own timeout ends it)."""

    def __init__(self, send: Callable[[Request], Answer], request: Request) -> None:
        self.request = request
        self._answered = threading.Event()
        self._answer: Answer | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(send,), name="bem-request-ahead", daemon=True).start()

    def _run(self, send: Callable[[Request], Answer]) -> None:
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
