"""The Meeting of bem's two readers alone (source_events/two_ended.py): whatever the interleaving of their
pages, the history's shape, skewed ID clocks, IDs that are not KSUIDs, or where the readers resume, every
event is emitted exactly once, and the two read little more than the listing. (Through HTTP:
unit_tests/test_bem_events.py and the interruption tests.)"""

import random

import pytest

from source_events.emulator.ids import ksuid
from source_events.two_ended import MARGIN_SECONDS, NEWEST_FIRST, OLDEST_FIRST, Front, Meeting, Top, Verdict

_T0 = 1_790_000_000


def _history(rng: random.Random, seconds: int, most_per_second: int, skew: bool = False) -> list[str]:
    """The IDs of a history with gaps and bursts, in the API's one order (oldest first). With `skew`, the
    order is by creation time and some IDs were minted by a clock a second behind or ahead."""
    listed = []
    for second in range(_T0, _T0 + seconds):
        burst = [
            ksuid(second + (rng.choice([0, 0, -1, 1]) if skew else 0), rng)
            for _ in range(rng.choice([0, 0, 1, 1, 2, most_per_second]))
        ]
        listed += burst if skew else sorted(burst)
    return listed


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


def _both_orders(listed: list[str]) -> dict[str, list[str]]:
    return {OLDEST_FIRST: listed, NEWEST_FIRST: listed[::-1]}


@pytest.mark.parametrize("seed", range(40))
def test_every_event_is_emitted_once_and_the_readers_overlap_by_a_page_at_most(seed):
    rng = random.Random(seed)
    listed = _history(rng, seconds=rng.randint(1, 60), most_per_second=rng.choice([3, 12, 60]))
    page = rng.choice([1, 3, 10])

    emitted, read = _read_both_ends(Meeting(Front(), Front(), Top()), _both_orders(listed), page, rng)

    assert sorted(emitted) == sorted(listed)
    # each reader stops at the first event the other has read: however dense a second, the overlap is the
    # pages they were reading when they met
    assert read[OLDEST_FIRST] + read[NEWEST_FIRST] <= len(listed) + 2 * page


@pytest.mark.parametrize("seed", range(40))
def test_every_event_is_emitted_once_when_id_clocks_are_skewed(seed):
    rng = random.Random(seed)
    listed = _history(rng, seconds=rng.randint(2, 40), most_per_second=8, skew=True)

    emitted, _ = _read_both_ends(Meeting(Front(), Front(), Top()), _both_orders(listed), rng.choice([1, 2, 5]), rng)

    assert sorted(emitted) == sorted(listed)


@pytest.mark.parametrize("seed", range(20))
def test_ids_without_a_second_meet_by_id(seed):
    rng = random.Random(seed)
    listed = [f"evt_{n:06d}" for n in range(rng.randint(0, 300))]

    emitted, read = _read_both_ends(Meeting(Front(), Front(), Top()), _both_orders(listed), 7, rng)

    assert sorted(emitted) == listed
    assert read[OLDEST_FIRST] + read[NEWEST_FIRST] <= len(listed) + 2 * 7


@pytest.mark.parametrize("seed", range(20))
def test_an_api_that_ignores_sort_order_loses_nothing(seed):
    """Both readers get the oldest-first listing: one of them stops at once, the other reads it all."""
    rng = random.Random(seed)
    listed = _history(rng, seconds=rng.randint(2, 40), most_per_second=5)

    emitted, _ = _read_both_ends(Meeting(Front(), Front(), Top()), {OLDEST_FIRST: listed, NEWEST_FIRST: listed}, 3, rng)

    assert sorted(emitted) == sorted(listed)


def test_the_top_is_where_the_newest_first_reader_started_and_the_first_id_beyond_the_margin():
    rng = random.Random(1)
    listed = [ksuid(_T0, rng), ksuid(_T0 + 5, rng), ksuid(_T0 + 8, rng), ksuid(_T0 + 9, rng), ksuid(_T0 + 9, rng)]
    meeting = Meeting(Front(), Front(), Top())
    for event_id in listed[::-1]:
        meeting.admit(NEWEST_FIRST, event_id)

    top = meeting.top_snapshot()
    assert (top.second, top.event_id) == (_T0 + 9, listed[-1])
    assert top.ids == listed[:1:-1]  # the seconds within MARGIN_SECONDS of the first
    assert top.below == listed[1]


def test_a_resumed_reader_skips_what_it_emitted_before_and_stops_where_the_other_was():
    """Fronts as BemEventIdCursor restores them from a state: the IDs read last, and their second."""
    rng = random.Random(3)
    already, other_read = ksuid(_T0 + 1, rng), ksuid(_T0 + 4, rng)
    meeting = Meeting(
        Front(second=_T0 + 1, ids={already: _T0 + 1}, already_read=frozenset({already})),
        Front(second=_T0 + 4, ids={other_read: _T0 + 4}, already_read=frozenset({other_read})),
        Top(),
    )

    assert meeting.admit(OLDEST_FIRST, already) is Verdict.SKIP
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 1, rng)) is Verdict.EMIT
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 3, rng)) is Verdict.EMIT
    assert meeting.admit(OLDEST_FIRST, other_read) is Verdict.STOP


def test_a_reader_stops_past_the_margin_even_without_meeting_an_id_the_other_read():
    rng = random.Random(5)
    meeting = Meeting(Front(), Front(second=_T0 + 4), Top())

    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 4 + MARGIN_SECONDS, rng)) is Verdict.EMIT
    assert meeting.admit(OLDEST_FIRST, ksuid(_T0 + 5 + MARGIN_SECONDS, rng)) is Verdict.STOP


def test_a_reader_that_starts_again_from_its_end_skips_its_saved_ids():
    rng = random.Random(4)
    newest = ksuid(_T0 + 9, rng)
    meeting = Meeting(Front(), Front(already_read=frozenset({newest})), Top())

    assert meeting.admit(NEWEST_FIRST, ksuid(_T0 + 12, rng)) is Verdict.EMIT  # arrived since
    assert meeting.admit(NEWEST_FIRST, newest) is Verdict.SKIP
    assert meeting.admit(OLDEST_FIRST, newest) is Verdict.STOP  # the other reader read it
