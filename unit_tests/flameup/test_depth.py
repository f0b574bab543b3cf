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
