"""The KSUID-style IDs (source_events/bem/ksuid.py): the second each one carries, read from its first
characters when they settle it, and the whole ID otherwise, always the same as decoding all of it."""

import random

import pytest

from source_events.bem.ksuid import EPOCH, _decoded_seconds, ksuid_seconds
from source_events.emulator.ids import ksuid

_T0 = 1_790_000_000


@pytest.mark.parametrize("seconds", [EPOCH, _T0, 2**32 - 1 + EPOCH])
def test_ksuid_seconds_reads_the_timestamp_prefix(seconds):
    assert ksuid_seconds(ksuid(seconds, random.Random(seconds))) == seconds


@pytest.mark.parametrize("event_id", ["string", "ev_short", "ev_" + "!" * 27, "ev_" + "z" * 27, "ev_" + "é" * 27])
def test_ksuid_seconds_is_none_for_ids_that_are_not_ksuids(event_id):
    assert ksuid_seconds(event_id) is None


class _Bits(random.Random):
    """Random bits that are all zeros or all ones: the IDs nearest a second's boundaries."""

    def __init__(self, ones: bool) -> None:
        super().__init__(0)
        self._ones = ones

    def getrandbits(self, k: int) -> int:
        return (1 << k) - 1 if self._ones else 0


def test_the_second_read_from_the_first_characters_is_the_whole_ids():
    rng = random.Random(7)
    ids = [ksuid(rng.randint(EPOCH, EPOCH + 2**32 - 1), rng) for _ in range(20_000)]
    ids += [ksuid(second, _Bits(ones)) for second in range(_T0, _T0 + 200) for ones in (False, True)]

    for event_id in ids:
        assert ksuid_seconds.__wrapped__(event_id) == _decoded_seconds(event_id.rsplit("_", 1)[-1]), event_id
