"""The whole answer's deadline (source_events.common.deadline): its watchdog fires what is due, lets go of what
was cancelled at once, and keeps no more than it must. The deadline through real HTTP:
integration_tests/test_reliability.py::test_an_answer_that_trickles_in_is_cut_at_its_whole_deadline_and_retried."""

import gc
import threading
import time
import weakref

from source_events.common.deadline import ANSWER_TIMEOUTS, _Watchdog, answer_seconds


class _Response:
    """Stands for the response a watch would shut: what a cancelled watch must not keep alive."""


def test_a_watch_that_is_due_fires():
    fired = threading.Event()

    watch = _Watchdog().watch(time.monotonic(), fired.set)

    assert fired.wait(5) and watch.fired


def test_a_cancelled_watch_lets_go_of_what_it_would_have_done_at_once():
    watchdog, response = _Watchdog(), _Response()
    gone = weakref.ref(response)
    watch = watchdog.watch(time.monotonic() + 300, lambda r=response: r)
    del response

    watch.cancel()
    gc.collect()

    assert gone() is None and not watch.fired


def test_cancelled_watches_do_not_pile_up_until_their_deadlines():
    watchdog = _Watchdog()
    for _ in range(10_000):  # a sync's answers over five minutes, each cancelled as it comes whole
        watchdog.watch(time.monotonic() + 300, lambda: None).cancel()

    assert len(watchdog._due) <= 2 * 64 + 2


def test_the_deadline_is_five_read_timeouts_and_none_without_one():
    assert answer_seconds((10, 60.0)) == ANSWER_TIMEOUTS * 60 == 300
    assert answer_seconds(0.2) == 1.0
    assert answer_seconds(None) is None and answer_seconds((10, None)) is None
