"""A window's record of the events it read answers like a set of their IDs, however many it holds."""

import random
import tracemalloc

from source_events.flameup.seen import SHARDS, SMALLEST, SeenEvents


def test_every_id_added_is_known_and_no_other_however_many_it_holds():
    rng = random.Random(11)
    seen, reference = SeenEvents(), set()
    for _ in range(90):
        page = [f"evt_{rng.getrandbits(128):032x}" for _ in range(rng.randint(1, 1_000))]
        page += rng.sample(sorted(reference), min(len(reference), 5))  # listed again: already read
        assert seen.known(page) == [event_id in reference for event_id in page]
        assert seen.add(page) == [event_id in reference for event_id in page]
        reference.update(page)

    assert len(reference) > 16 * SHARDS * SMALLEST  # every shard grew several times
    assert len(seen) == len(reference)
    sample = rng.sample(sorted(reference), 2_000) + [f"evt_{rng.getrandbits(128):032x}" for _ in range(2_000)]
    assert seen.known(sample) == [event_id in reference for event_id in sample]


def test_ids_of_any_text_are_told_apart():
    seen = SeenEvents()
    odd = ["", "é", "\udc80", "a\x00", "a", "a\x00\x00", *(str(i) for i in range(2 * SMALLEST))]
    assert seen.add(odd + odd[:3]) == [False] * (len(odd) + 3)  # listed twice in one call: new both times
    assert len(seen) == len(odd)
    assert seen.known(odd + ["\x00", "b", "a\x00\x00\x00"]) == [True] * len(odd) + [False, False, False]


def test_growing_holds_little_more_than_the_table_at_any_moment():
    """A growth holds a shard's old and new arrays at once, not the whole table's: the freed old arrays stay with
    the process (0.5.11's single table held 1.5 times its size as it grew past 92,000 events)."""
    rng = random.Random(5)
    pages = [[f"evt_{rng.getrandbits(128):032x}" for _ in range(1_000)] for _ in range(100)]
    seen = SeenEvents()
    tracemalloc.start()
    try:
        for page in pages:
            seen.add(page)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(seen) == 100_000
    assert peak < 1.2 * held, f"peak {peak:,} bytes, {held:,} held once grown"
