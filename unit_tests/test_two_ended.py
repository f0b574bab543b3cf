"""The Meeting of bem's two readers alone (source_events/two_ended.py): whatever the interleaving of their
pages, the order inside a second, or where they start, every event is emitted exactly once, and neither
reader reads much past the other. (Through HTTP: unit_tests/test_bem_events.py.)"""

import random

import pytest

from source_events.emulator.ids import ksuid
from source_events.two_ended import NEWEST_FIRST, OLDEST_FIRST, Front, Meeting, Top, Verdict

_T0 = 1_790_000_000


def _listing(rng: random.Random, seconds: int, most_per_second: int) -> list[tuple[int, str]]:
    """(second, ID) of a history with gaps and bursts, oldest first."""
    events = []
    for second in range(_T0, _T0 + seconds):
        for _ in range(rng.choice([0, 0, 1, 1, 2, most_per_second])):
            events.append((second, ksuid(second, rng)))
    return events


def _listed(events, newest_first: bool, rng: random.Random) -> list[str]:
    """Sorted by second; inside a second in an order of its own (the API documents none)."""
    shuffled = list(events)
    rng.shuffle(shuffled)
    return [i for _, i in sorted(shuffled, key=lambda e: e[0], reverse=newest_first)]


def _read_both_ends(meeting: Meeting, listings: dict[str, list[str]], page: int, rng: random.Random):
    """Both readers page through their listing, one page at a time in a random interleaving."""
    emitted: list[str] = []
    read = {OLDEST_FIRST: 0, NEWEST_FIRST: 0}
    active = [OLDEST_FIRST, NEWEST_FIRST]
    while active:
        sort_order = rng.choice(active)
        chunk = listings[sort_order][read[sort_order] : read[sort_order] + page]
        read[sort_order] += len(chunk)
        for event_id in chunk:
            verdict = meeting.admit(sort_order, event_id)
            if verdict is Verdict.STOP:
                break
            if verdict is Verdict.EMIT:
                emitted.append(event_id)
        if not chunk or meeting.stopped(sort_order):
            active.remove(sort_order)
    return emitted, read


@pytest.mark.parametrize("seed", range(40))
def test_every_event_is_emitted_once_whatever_the_interleaving(seed):
    rng = random.Random(seed)
    events = _listing(rng, seconds=rng.randint(1, 60), most_per_second=rng.choice([3, 12, 40]))
    listings = {OLDEST_FIRST: _listed(events, False, rng), NEWEST_FIRST: _listed(events, True, rng)}
    page = rng.choice([1, 3, 10])

    emitted, read = _read_both_ends(Meeting(Front(), Front(), Top()), listings, page, rng)

    assert sorted(emitted) == sorted(i for _, i in events)
    # each reader stops within a page of the other: together at most the listing, its largest second twice
    # (both may read the second they meet in) and one page each
    largest_second = max((sum(1 for s, _ in events if s == t) for t, _ in events), default=0)
    assert read[OLDEST_FIRST] + read[NEWEST_FIRST] <= len(events) + 2 * largest_second + 2 * page


def test_the_top_is_the_newest_second_and_the_first_id_below_it():
    rng = random.Random(1)
    events = [
        (_T0, ksuid(_T0, rng)),
        (_T0 + 5, ksuid(_T0 + 5, rng)),
        (_T0 + 9, ksuid(_T0 + 9, rng)),
        (_T0 + 9, ksuid(_T0 + 9, rng)),
    ]
    listings = {OLDEST_FIRST: _listed(events, False, rng), NEWEST_FIRST: _listed(events, True, rng)}
    meeting = Meeting(Front(), Front(), Top())

    _read_both_ends(meeting, listings, page=1, rng=rng)

    top = meeting.top_snapshot()
    assert top.second == _T0 + 9
    assert top.event_id == listings[NEWEST_FIRST][0]
    assert top.below == events[1][1]  # the newest event of an earlier second


def test_an_id_without_a_second_leaves_the_listing_to_the_oldest_first_reader():
    meeting = Meeting(Front(), Front(), Top())

    assert meeting.admit(NEWEST_FIRST, "evt_not-a-ksuid") is Verdict.STOP
    assert meeting.abandoned and meeting.stopped(NEWEST_FIRST)
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0, random.Random(2))) is Verdict.EMIT


def test_a_resumed_reader_skips_what_it_emitted_before_and_stops_at_the_other_front():
    rng = random.Random(3)
    already = ksuid(_T0 + 1, rng)
    meeting = Meeting(Front(second=_T0 + 1, ids={already}), Front(second=_T0 + 4, ids=set()), Top())

    assert meeting.admit(OLDEST_FIRST, already) is Verdict.SKIP
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 1, rng)) is Verdict.EMIT
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 4, rng)) is Verdict.EMIT  # the second they may share
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 5, rng)) is Verdict.STOP
