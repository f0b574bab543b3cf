"""Seeded syncs against the emulator listing ties (events sharing a time) in another order on each request, while
the listing changes under the reader or not: scripts/fuzz_flameup_ties.py counts the syncs that lose events, and
integration_tests/test_adversary_ties_depth.py keeps seeds that lost events in earlier versions."""

import random
from datetime import datetime, timezone
from typing import Literal, get_args

from source_events.emulator import FlameupBehaviour
from source_events.emulator.datasets import flameup_events
from source_events.emulator.sample import WORKSPACE_ID
from source_events.emulator.server import Addition, Deletion, Mutation
from testkit.builders import FLAMEUP, a_flameup_event, flameup_ties
from testkit.emulator import full_flameup_sync, keys

Change = Literal["deletions", "late-events", "none", "hidden", "churn"]
CHANGES = list(get_args(Change))


def one_sync(seed: int, change: Change) -> str | int:
    """Events lost (or emitted twice) by the seed's sync, or the message of the error it failed with."""
    if change == "churn":
        return _outcome(*_churn(seed))
    rng = random.Random(seed)
    if change == "deletions":
        cap, longest, count = rng.choice([3, 5, 7, 10]), rng.choice([2, 3, 5]), rng.choice([200, 300, 400])
        deletion = Deletion(
            api="flameup",
            seed=seed,
            where=rng.choice(["random", "oldest", "last_served"]),
            at_request=rng.randint(3, 17),
            count=rng.randint(1, 2),
            repeat_every=rng.randint(2, 7),
            times=rng.randint(4, 8),
        )
    elif change == "hidden":
        cap, longest, count = rng.choice([2, 3, 4, 5]), rng.choice([2, 3, 5]), 200
    else:
        cap = rng.choice([2, 3, 4, 5, 7, 10])
        longest, count = rng.choice([2, 3, max(cap - 1, 2), cap, cap + 3, 2 * cap]), rng.choice([40, 80, 150])
    behaviour = FlameupBehaviour(
        tie_order="per_request",
        limit_cap=cap,
        newest_first=rng.random() < 0.5,
        filter_field=rng.choice(["timestamp", "created_at"]),
        hidden_share=0.3 if change == "hidden" else 0.0,
    )
    events = flameup_ties(seed, count, longest)
    if change == "deletions":
        changes = [deletion]
    elif change == "late-events":
        ids = random.Random(f"late events {seed}")  # not `rng`: flameup_ties drew the listed events' IDs from `seed`
        changes = [
            Mutation(at_request=rng.randint(2, count // cap + 5), flameup_events=[_late(rng.choice(events), ids)])
            for _ in range(rng.choice([1, 2, 4, 8]))
        ]
    else:
        changes = []
    return _outcome(events, behaviour, changes)


def _churn(seed: int) -> tuple[list, FlameupBehaviour, list]:
    """Ties in a stable order; events deleted (the oldest, at random, or the last served) and added while the sync
    reads; a page cap of 1 to 37, up to 30 % of events hidden after cutting; either direction, either field.
    Event times are fixed: a seed sends the same requests at any time of day."""
    rng = random.Random(seed)
    behaviour = FlameupBehaviour(
        limit_cap=rng.choice([1, 2, 3, 7, 37]),
        hidden_share=rng.choice([0.0, 0.1, 0.3]),
        newest_first=rng.random() < 0.5,
        filter_field=rng.choice(["timestamp", "created_at"]),
    )
    span = (datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 7, tzinfo=timezone.utc))
    events = flameup_events(rng.choice([30, 120]), *span, WORKSPACE_ID, seed=seed)
    deletions = Deletion(
        api="flameup",
        seed=seed,
        at_request=rng.randint(2, 6),
        where=rng.choice(["oldest", "random", "last_served"]),
        count=rng.randint(1, 4),
        repeat_every=rng.randint(1, 3),
        times=20,
    )
    additions = Addition(
        api="flameup",
        seed=seed,
        at_request=rng.randint(2, 8),
        count=rng.randint(1, 3),
        repeat_every=rng.randint(2, 5),
        times=5,
    )
    return events, behaviour, [deletions, additions]


def _outcome(events: list, behaviour: FlameupBehaviour, changes: list) -> str | int:
    output, bounds, _ = full_flameup_sync(events, behaviour, changes)
    if output.errors:
        return output.errors[0].trace.error.message
    emitted = keys(output, FLAMEUP)
    return len(bounds.must - set(emitted)) + len(emitted) - len(set(emitted))


def _late(listed: dict, rng: random.Random) -> dict:
    """A new event on the time of one listed already: it lands in that event's tie."""
    return a_flameup_event(listed["timestamp"], rng, created_at=listed["created_at"])
