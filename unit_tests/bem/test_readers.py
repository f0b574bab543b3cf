"""bem's two readers on their own, answer by answer: what each asks next, what it emits, and when it stops.
Through HTTP, both together: unit_tests/bem/test_bem_events.py and integration_tests/test_exactness.py."""

import random
import threading

import pytest

from source_events.bem.backward import SORT_CHECK_EVENTS, BackwardRead
from source_events.bem.forward import ForwardRead
from source_events.bem.ksuid import ksuid_seconds
from source_events.bem.meeting import Meeting
from source_events.bem.position import LookbackPosition
from source_events.bem.state import NewestFirst, Position
from source_events.emulator.ids import ksuid

_T0 = 1_790_000_000
_APART = 4  # how far two events' ID seconds may lie apart against the listing's order
_ZONE = _APART  # an ID this far behind a reader's frontier lies in a second it read whole


def _ids(seconds: list[int], seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return sorted(ksuid(second, rng) for second in seconds)


def _forward(after: str | None = None, meeting: Meeting | None = None, ceiling: int | None = None) -> ForwardRead:
    position = LookbackPosition(Position(starting_after=after), lookback_seconds=0, block=10)
    return ForwardRead(
        position,
        page_size=10,
        apart_seconds=_APART,
        meeting=meeting or Meeting(zone_seconds=_ZONE),
        after=after,
        ceiling_second=ceiling,
    )


def _backward(meeting: Meeting | None = None, floor: int | None = None, after: str | None = None) -> BackwardRead:
    start = NewestFirst(starting_after=after, floor_second=floor)
    return BackwardRead(
        start, page_size=10, lookback_seconds=0, apart_seconds=_APART, meeting=meeting or Meeting(zone_seconds=_ZONE)
    )


def test_the_oldest_first_reader_ends_only_on_an_empty_page_at_a_confirmed_position():
    listing = _ids(list(range(_T0, _T0 + 15)))
    forward = _forward()

    assert forward.take(listing[:10], True) == listing[:10]
    # the next request names the last ID before the page's last second: that second is listed again whole
    assert forward.request.starting_after == listing[8]
    assert forward.take(listing[9:], True) == listing[10:]  # a short page: not the end; [9] is not emitted twice
    assert forward.request.starting_after == listing[13]
    assert forward.take(listing[14:], True) == []  # its last second again: one second whole, so after its last ID
    assert forward.request.starting_after == listing[14]
    assert forward.take([], True) == []  # an empty page: is the position still listed?
    assert forward.request.event_ids == listing[14] and forward.request.limit == 1
    forward.take([listing[14]], True)
    assert forward.done and forward.covered


@pytest.mark.parametrize("answer", ["rejected", "empty, then not listed", "older events"])
def test_a_vanished_position_falls_back_on_the_event_read_before_it(answer):
    listing = _ids(list(range(_T0, _T0 + 30)))
    forward = _forward()
    forward.take(listing[:10], True)

    if answer == "rejected":
        forward.take([], False)
    elif answer == "empty, then not listed":
        forward.take([], True)
        forward.take([], True)
    else:  # the API answered an unknown position with its listing's start
        forward.take(_ids(list(range(_T0 - 100, _T0 - 90)), seed=2), True)

    assert forward.request.starting_after == listing[7]  # the position was listing[8], before the page's last second
    assert forward.take(listing[8:18], True) == listing[10:18]  # those read before are not emitted twice


def test_once_no_event_of_the_page_is_left_the_listings_start_shows_whether_it_reads_on_from_there():
    listing = _ids(list(range(_T0, _T0 + 30)))
    retained, deleted = _forward(), _forward()
    for forward in (retained, deleted):
        forward.take(listing[:10], True)
        for _ in range(9):  # every event of the page up to the position (its 9th) vanished, one after another
            forward.take([], False)
        assert forward.request.starting_after is None and forward.request.sort_order == "asc"

    assert retained.take(listing[12:22], True) == listing[12:22]  # retention: nothing before the position is left
    assert not retained.done and not retained.vanished
    deleted.take(_ids(list(range(_T0 - 500, _T0 - 490)), seed=3), True)  # older events are still listed
    assert deleted.done and deleted.vanished and deleted.read_under == ksuid_seconds(listing[0]) - _APART


def test_the_oldest_first_reader_stops_where_the_newest_first_reader_read_whole_seconds():
    """The newest-first reader read down to second 15: its IDs of seconds above 15 + the zone are settled (a second
    it may have listed in another tie order than the oldest-first reader, it read whole). The oldest-first reader
    goes past the others, without emitting them again, and stops at the first settled one."""
    listing = _ids(list(range(_T0, _T0 + 40)))
    meeting = Meeting(zone_seconds=_ZONE)
    assert meeting.arrive(Meeting.NEWEST_FIRST, listing[:14:-1]) == (listing[:14:-1], None)  # 39 down to 15
    forward = _forward(meeting=meeting)

    assert forward.take(listing[:10], True) == listing[:10]
    # each page resumes before its last second ([8], then [17]), which the next lists again
    assert forward.take(listing[9:19], True) == listing[10:15]  # 15 to 18: read by the other, not settled
    assert not forward.done
    assert forward.take(listing[18:28], True) == []  # 19 is not settled, 20 is: met

    assert forward.done and forward.met and forward.covered and forward.after == listing[19]


def test_a_ceiling_stops_the_oldest_first_reader_once_it_read_above_it():
    listing = _ids(list(range(_T0, _T0 + 40)))
    forward = _forward(ceiling=_T0 + 12)

    forward.take(listing[:10], True)
    forward.take(listing[9:19], True)  # after [8]: its last second again

    assert forward.done and forward.covered


def test_the_newest_first_reader_checks_the_sort_order_reads_down_to_its_floor_and_remembers_the_top():
    listing = _ids(list(range(_T0, _T0 + 100)))
    backward = _backward(floor=_T0 + 75)

    assert backward.request.sort_order == "asc" and backward.request.limit == SORT_CHECK_EVENTS
    backward.take(listing[:SORT_CHECK_EVENTS], True)
    assert backward.request.sort_order == "desc" and backward.request.starting_after is None
    assert backward.take(listing[:89:-1], True) == listing[:89:-1]  # 99 down to 90
    assert backward.request.starting_after == listing[91]  # before the page's last second, listed again
    assert backward.take(listing[90:80:-1], True) == listing[89:80:-1]
    assert backward.take(listing[81:71:-1], True) == listing[80:74:-1]  # under the floor: read before

    assert backward.done and backward.covered and backward.top.event_id == listing[-1]


def test_a_newest_first_reader_leaves_a_short_backlog_to_the_oldest_first_reader():
    listing = _ids(list(range(_T0, _T0 + 100)))
    backward = _backward(floor=_T0 + 90)  # ten seconds of backlog: less than four zones

    backward.take(listing[:SORT_CHECK_EVENTS], True)
    assert backward.take(listing[:89:-1], True) == []

    assert backward.done and backward.not_needed and not backward.covered


def test_a_newest_first_reader_whose_api_ignores_sort_order_reads_nothing():
    listing = _ids(list(range(_T0, _T0 + 40)))
    backward = _backward()

    backward.take(listing[:SORT_CHECK_EVENTS], True)
    assert backward.take(listing[:10], True) == []  # the same event first both ways

    assert backward.done and backward.ignores_sort_order and not backward.covered


@pytest.mark.parametrize("deleted", [1, 3, SORT_CHECK_EVENTS - 2])
def test_an_ignored_sort_order_is_seen_when_the_oldest_events_were_deleted_after_the_check(deleted):
    listing = _ids(list(range(_T0, _T0 + 40)))
    backward = _backward()

    backward.take(listing[:SORT_CHECK_EVENTS], True)
    assert backward.take(listing[deleted : deleted + 10], True) == []  # its first page starts with a later one

    assert backward.done and backward.ignores_sort_order


def test_a_listing_no_longer_than_the_sort_check_is_read_newest_first_when_it_starts_with_the_newest():
    listing = _ids(list(range(_T0, _T0 + 6)))  # the check's answer holds it all
    backward = _backward()

    backward.take(listing, True)
    assert backward.take(listing[::-1], True) == listing[::-1]

    assert not backward.ignores_sort_order


def test_a_newest_first_reader_confirms_an_empty_page_and_gives_up_a_position_it_cannot_replace():
    listing = _ids(list(range(_T0, _T0 + 40)))
    backward = _backward(after=listing[20])

    backward.take([], True)
    assert backward.request.event_ids == listing[20]
    backward.take([], True)  # not listed: no event of a page read to fall back on

    assert backward.done and backward.gave_up and not backward.covered


@pytest.mark.parametrize("seed", range(5))
def test_two_readers_that_fetch_the_same_stretch_at_once_emit_each_event_once(seed):
    """Checking an answer and recording it happen under one lock: the first to arrive records it, the second
    meets it, whatever the threads do."""
    rng = random.Random(seed)
    listing = _ids(list(range(_T0, _T0 + 30)))
    meeting = Meeting(zone_seconds=_ZONE)
    emitted: list[str] = []
    start = threading.Barrier(2)

    def arrive(reader: str, page: list[str]) -> None:
        start.wait()
        emitted.extend(meeting.arrive(reader, page)[0])

    stretch = listing[rng.randrange(5) : 20 + rng.randrange(5)]
    threads = [
        threading.Thread(target=arrive, args=(Meeting.OLDEST_FIRST, stretch)),
        threading.Thread(target=arrive, args=(Meeting.NEWEST_FIRST, stretch[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(emitted) == stretch


def test_a_reader_that_reached_the_end_settles_every_id_it_read():
    listing = _ids(list(range(_T0, _T0 + _ZONE)))
    meeting = Meeting(zone_seconds=_ZONE)
    meeting.arrive(Meeting.OLDEST_FIRST, listing)
    assert meeting.arrive(Meeting.NEWEST_FIRST, listing[::-1]) == ([], None)  # read by the other, not settled

    meeting.reached_the_end(Meeting.OLDEST_FIRST)

    assert meeting.arrive(Meeting.NEWEST_FIRST, listing[::-1]) == ([], 0)
