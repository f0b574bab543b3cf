"""ServedDepth: when an empty answer is a listing's end by the sync's own evidence (pure logic). The syncs through
real HTTP, under each kind of depth cap, are in integration_tests/test_adversary*.py."""

from datetime import datetime, timedelta, timezone

import pytest

from source_events.flameup.depth import ReadSoFar, ServedDepth


def test_nothing_served_yet_proves_no_end():
    assert not ServedDepth().ends_there(0, 100)


@pytest.mark.parametrize(
    "empty_at, limit, ends",
    [
        (77_070, 1_000, True),  # shallower than an answer with events, and reaching less far
        (150_000, 1, True),  # where the answer with events was
        (150_001, 1, False),  # deeper than any answer with events: maybe a cap on `offset`
        (149_999, 1_000, False),  # shallower, but reaching further: maybe a cap on `offset + limit`
    ],
)
def test_an_empty_answer_ends_a_listing_only_where_both_kinds_of_cap_are_ruled_out(empty_at, limit, ends):
    depth = ServedDepth()
    depth.served(150_000, 1)  # a probe's event
    depth.served(200_000, 0)  # an empty answer proves nothing

    assert depth.ends_there(empty_at, limit) is ends


def _read(times: list[int], offline: bool = False) -> ReadSoFar:
    """A listing that read events at these minutes past 10:00 (`created_at` out of order when `offline`)."""
    read = ReadSoFar()
    read.page_deep = True
    for n, minute in enumerate(times):
        moment = datetime(2026, 6, 1, 10, tzinfo=timezone.utc) + timedelta(minutes=minute)
        ingested = moment + timedelta(minutes=(-5 if n % 2 else 5) if offline else 0)
        read.listed({"timestamp": moment.isoformat(), "created_at": ingested.isoformat()}, new=True)
    return read


def _sides(read: ReadSoFar) -> list[str]:
    start, end = datetime(2026, 6, 1, 9, tzinfo=timezone.utc), datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    return ["older" if part.lower == start else "newer" for part in read.beyond(start, end)]


@pytest.mark.parametrize(
    "times, offline, sides",
    [
        ([50, 40, 30, 20], False, ["older"]),  # newest first
        ([20, 30, 40, 50], False, ["newer"]),  # oldest first
        ([20, 30, 40, 50], True, ["newer"]),  # oldest first by `timestamp`; `created_at` goes both ways
        # newest first, events arriving at the top read last (newer than the first read): 0.5.6 took it for oldest
        # first and checked only the newer part, losing the listing past a depth Flameup serves
        ([50, 40, 30, 20, 55, 56], False, ["older", "newer"]),
    ],
)
def test_the_part_beyond_a_listing_is_checked_on_the_side_its_every_step_went_or_on_both(times, offline, sides):
    assert _sides(_read(times, offline)) == sides


_TEN = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)


def _listed(pairs: list[tuple[int, int]], asked: tuple[int, int] = (0, 60)) -> ReadSoFar:
    """A listing of the range `asked` (minutes past 10:00) that read events at these (`timestamp`, `created_at`)
    minutes past 10:00, in this order."""
    read = ReadSoFar(asked=tuple(_TEN + timedelta(minutes=m) for m in asked))
    for n, (happened, received) in enumerate(pairs):
        times = {"timestamp": _TEN + timedelta(minutes=happened), "created_at": _TEN + timedelta(minutes=received)}
        read.listed({"id": f"e{n}", **{field: moment.isoformat() for field, moment in times.items()}}, new=True)
    return read


def test_a_field_an_event_holds_outside_the_range_asked_is_not_the_one_compared():
    # an offline client's event, received at 10:30, happened at 08:00: `timestamp` is not what the range compares
    assert _listed([(10, 10), (-120, 30), (40, 41)]).not_compared == {"timestamp"}
    # within the range as asked, widened by the manifest's seconds: no evidence either way
    assert _listed([(0, 0), (59, 60)]).not_compared == set()


def test_an_event_whose_times_lie_far_apart_is_kept_to_tell_which_field_is_compared():
    assert _listed([(10, 10), (20, 25), (30, 30)]).telling == [
        ("e1", {"timestamp": _TEN + timedelta(minutes=20), "created_at": _TEN + timedelta(minutes=25)})
    ]
    assert _listed([(10, 10), (30, 30)]).telling == []
    # a few are kept: the first may be deleted before it is asked for
    assert [key for key, _ in _listed([(m, m + 5) for m in range(0, 50, 5)]).telling] == ["e0", "e1", "e2"]


@pytest.mark.parametrize(
    "minutes, cut_at",
    [
        (range(40, 60), 57),  # oldest first: past most of what was read, the depth hid what lies later
        (range(59, 39, -1), 42),  # newest first: the depth hid what lies earlier
        ([40, 59, 41, 58, 42, 57], 42),  # no direction: the median
    ],
)
def test_a_range_read_again_in_halves_is_cut_past_most_of_the_events_read(minutes, cut_at):
    # a history from long before its events: the time's middle would leave them all on one side
    read = _listed([(m, m) for m in minutes], asked=(-600, 60))

    assert read.cut({"created_at"}) == _TEN + timedelta(minutes=cut_at)


@pytest.mark.parametrize(
    "not_compared, sorted_by_compared",
    [
        (set(), True),  # no evidence of which field is compared: the check beyond, as before (a known limit)
        ({"timestamp"}, False),  # `created_at` compared, but the listing went both ways by it
        ({"created_at"}, True),  # `timestamp` compared, and the listing went one way by it
        ({"timestamp", "created_at"}, True),  # contradicting evidence: none
    ],
)
def test_a_listing_sorted_by_one_time_and_compared_on_the_other_is_told_apart(not_compared, sorted_by_compared):
    # sorted by `timestamp`; `created_at` goes both ways (events received late)
    read = _listed([(10, 12), (20, 50), (30, 31), (40, 42)])

    assert read.sorted_by_compared(not_compared) is sorted_by_compared
