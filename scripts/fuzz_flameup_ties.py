"""Seeded syncs against the emulator listing ties in another order on each request while events are deleted before
the reader's position (a known limit, docs/exactness.md): how many syncs lose events, and how many.

    .venv/bin/python scripts/fuzz_flameup_ties.py            # seeds 1000-1059, ~4 minutes
    .venv/bin/python scripts/fuzz_flameup_ties.py --seeds 1000 1010

Each seed draws a page cap (3-10), ties of up to 2, 3 or 5 events, 200-400 events, a newest- or oldest-first
listing on `timestamp` or `created_at`, and deletions (random, the oldest, or the event just served) every 2 to
7 requests. A sync that fails (a tie longer than a page, named) is counted apart: it loses nothing quietly.
"""

import argparse
import logging
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from source_events.emulator import FlameupBehaviour  # noqa: E402
from source_events.emulator.server import Deletion  # noqa: E402
from testkit.builders import FLAMEUP, catalog, flameup_ties, run_read  # noqa: E402
from testkit.emulator import emulator_config, keys, running_emulator, sync_bounds  # noqa: E402


def one_sync(seed: int) -> str | int:
    """Events lost (or emitted twice) by the seed's sync, or "failed"."""
    rng = random.Random(seed)
    cap, longest, count = rng.choice([3, 5, 7, 10]), rng.choice([2, 3, 5]), rng.choice([200, 300, 400])
    deletion = dict(
        where=rng.choice(["random", "oldest", "last_served"]),
        at_request=rng.randint(3, 17),
        count=rng.randint(1, 2),
        repeat_every=rng.randint(2, 7),
        times=rng.randint(4, 8),
    )
    behaviour = FlameupBehaviour(
        tie_order="per_request",
        limit_cap=cap,
        newest_first=rng.random() < 0.5,
        filter_field=rng.choice(["timestamp", "created_at"]),
    )
    with running_emulator(flameup_events=flameup_ties(seed, count, longest), flameup_behaviour=behaviour) as server:
        server.changes.append(Deletion(api="flameup", seed=seed, **deletion))
        at_start = server.ground_truth()
        config = emulator_config(server, flameup={"start_date": "2020-01-01T00:00:00Z"})
        output = run_read(config, catalog(FLAMEUP), expect_failure=True)
        bounds = sync_bounds(at_start, server)[FLAMEUP]
    if output.errors:
        return "failed"
    emitted = keys(output, FLAMEUP)
    return len(bounds.must - set(emitted)) + len(emitted) - len(set(emitted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs=2, type=int, default=[1000, 1060], metavar=("FIRST", "END"))
    first, end = parser.parse_args().seeds
    logging.disable(logging.CRITICAL)  # the syncs' own logs
    results = {seed: one_sync(seed) for seed in range(first, end)}
    losing = {seed: n for seed, n in results.items() if n != "failed" and n}
    failed = [seed for seed, n in results.items() if n == "failed"]
    print(
        f"{len(results)} syncs: {len(losing)} lost {sum(losing.values())} events (seeds {sorted(losing)}), "
        f"{len(failed)} failed naming the cause (seeds {failed})"
    )


if __name__ == "__main__":
    main()
