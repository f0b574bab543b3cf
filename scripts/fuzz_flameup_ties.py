"""Seeded syncs against the emulator listing ties in another order on each request while the listing changes
under the reader (or, `--change churn`, in a stable order while events come and go): how many syncs lose events,
and how many.

    .venv/bin/python scripts/fuzz_flameup_ties.py                        # deletions, seeds 1000-1059, ~4 minutes
    .venv/bin/python scripts/fuzz_flameup_ties.py --seeds 1000 1010
    .venv/bin/python scripts/fuzz_flameup_ties.py --change late-events --seeds 3000 3120   # ~3 minutes
    .venv/bin/python scripts/fuzz_flameup_ties.py --change none --seeds 3000 3120

`--change deletions` (a known limit, docs/exactness.md): each seed draws a page cap (3-10), ties of up to 2, 3
or 5 events, 200-400 events, a newest- or oldest-first listing on `timestamp` or `created_at`, and deletions
(random, the oldest, or the event just served) every 2 to 7 requests.
`--change late-events`: a page cap of 2-10, ties of up to 2 to twice a page, 40-150 events, and 1-8 late events
arriving, each at a random request, on the time of an event listed already (into its tie).
`--change none`: the same draws, nothing changes: only the ties' order.
`--change hidden`: a page cap of 2-5, ties of up to 2, 3 or 5 events, 200 events, 30 % of them hidden (pages
filtered after cutting: a known limit with reordered ties), nothing changes.
`--change churn` (no reordered ties; `--seeds 0 80`, ~1 minute): a page cap of 1-37, up to 30 % of events hidden,
30 or 120 events, either direction and field, the oldest, random or last-served events deleted every 1 to 3
requests and 1-3 events added every 2 to 5 (0.5.5 lost events in 6 of seeds 0-79; 0.5.6 in none).
A sync that fails (a tie longer than a page, named) is counted apart: it loses nothing quietly.
"""

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testkit.tie_fuzz import CHANGES, one_sync  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs=2, type=int, default=[1000, 1060], metavar=("FIRST", "END"))
    parser.add_argument("--change", choices=CHANGES, default="deletions")
    arguments = parser.parse_args()
    first, end = arguments.seeds
    logging.disable(logging.CRITICAL)  # the syncs' own logs
    results = {seed: one_sync(seed, arguments.change) for seed in range(first, end)}
    losing = {seed: n for seed, n in results.items() if isinstance(n, int) and n}
    failed = [seed for seed, n in results.items() if isinstance(n, str)]
    print(
        f"{len(results)} syncs: {len(losing)} lost {sum(losing.values())} events (seeds {sorted(losing)}), "
        f"{len(failed)} failed naming the cause (seeds {failed})"
    )


if __name__ == "__main__":
    main()
