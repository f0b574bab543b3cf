"""ServedDepth: when an empty answer is a listing's end by the sync's own evidence (pure logic). The syncs through
real HTTP, under each kind of depth cap, are in integration_tests/test_adversary*.py."""

import pytest

from source_events.flameup.depth import ServedDepth


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
