"""bem's first sync at a round trip's latency: the connector's wall time against one reader paging sequentially.

bem pages one way (each request names the last ID of the page before), so a plain reader waits one round trip
per page of 100. The connector reads from both ends at once (source_events/bem/reading.py). Both run against the
same emulator, with the same latency on every request, in turn (raw loop, connector, raw loop, connector, ...):
the ratio of each pair's wall times, start-up included (launch to exit), and its median. The connector's run is
checked against the emulator's ground truth: every event once, none missing.

The listing breaks the ties of one second differently in each direction (ascending by ID, descending by
insertion), as the exactness tests allow, so the readers' meeting works as it must against a real API.
"""

import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from harness import (
    BEM_DAYS,
    ChildRun,
    bem_api,
    connector_args,
    median,
    missing_and_repeated,
    raw_loop_args,
    run_child,
)

from source_events.bem.backward import SORT_CHECK_EVENTS
from source_events.emulator import BemBehaviour
from source_events.emulator.server import EmulatorServer

TARGET_RATIO = 0.55
PAGE = 100  # bem's largest page: the connector's default, and the raw loop's


@dataclass
class Pair:
    raw: ChildRun
    connector: ChildRun
    exact: tuple[int, int, int]  # the connector's events missing, not in the API, emitted twice
    # the median time a reader takes beyond the latency from one page's answer to its next page's request, as the
    # emulator sees it (its own work included): what a round trip costs besides the API's latency
    raw_turnaround_ms: float
    connector_turnaround_ms: float

    @property
    def ratio(self) -> float:
        return self.connector.seconds / self.raw.seconds

    @property
    def reading_ratio(self) -> float:
        """The same ratio from each side's first record to its exit: start-up (and the first round trip) left out."""
        return reading_seconds(self.connector) / reading_seconds(self.raw)


def reading_seconds(run: ChildRun) -> float:
    return run.seconds - run.first_record


def first_sync(records: int, latencies_ms: list[int], pairs: int) -> list[tuple[int, list[Pair], dict]]:
    """For each latency: `pairs` pairs of runs, and the connector's requests by kind (from its last run)."""
    api = bem_api(records, BemBehaviour(sort_by="second", asc_ties="id", desc_ties="insertion_reversed"))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for latency_ms in latencies_ms:
            with EmulatorServer(None, api, latency_seconds=latency_ms / 1000) as server:
                truth = server.ground_truth()["bem_events"]
                runs = []
                for _ in range(pairs):
                    raw_began = len(server.received)
                    raw = run_child(raw_loop_args("bem", server, PAGE))
                    began = len(server.received)
                    connector = run_child(connector_args(Path(folder), server, ["bem_events"]))
                    requests = _requests_by_kind(server.received[began:])
                    exact = missing_and_repeated(connector.keys.get("bem_events", []), truth)
                    turnarounds = (
                        _turnaround_ms(server.received[raw_began:began], latency_ms),
                        _turnaround_ms(server.received[began:], latency_ms),
                    )
                    runs.append(Pair(raw, connector, exact, *turnarounds))
                    _print_pair(records, latency_ms, runs[-1], requests)
                results.append((latency_ms, runs, requests))
    return results


def _requests_by_kind(received: list) -> dict[str, int]:
    """The connector's bem requests: pages oldest first and newest first, and the one-event checks (the sort
    order's, a position's confirmation)."""
    kinds: dict[str, int] = {}
    for request in received:
        query = {name: values[0] for name, values in request.query.items()}
        if query.get("eventIDs"):
            kind = "position checks"
        elif query.get("limit") == str(SORT_CHECK_EVENTS) and "startingAfter" not in query:
            kind = "sort-order checks"
        else:
            kind = f"pages {'newest' if query.get('sortOrder') == 'desc' else 'oldest'} first"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _turnaround_ms(received: list, latency_ms: int) -> float:
    """The median gap, less the latency, between the arrivals of two pages one after the other of one reader (each
    sort order is one reader's; checks left out): the emulator's arrival times are taken after its latency."""
    arrivals: dict[str, list[float]] = {}
    for request in received:
        query = {name: values[0] for name, values in request.query.items()}
        if query.get("limit") == str(PAGE) and not query.get("eventIDs"):
            arrivals.setdefault(query.get("sortOrder", "asc"), []).append(request.at)
    gaps = [(b - a) * 1000 - latency_ms for times in arrivals.values() for a, b in pairwise(times)]
    return median(gaps) if gaps else float("nan")


def _print_pair(records: int, latency_ms: int, pair: Pair, requests: dict[str, int]) -> None:
    raw, connector = pair.raw, pair.connector
    missing, extra, twice = pair.exact
    print(
        f"bem first sync: {records:,} events, {latency_ms} ms a request: connector {connector.seconds:6.1f} s "
        f"(first record {connector.first_record:.2f} s), one sequential reader {raw.seconds:6.1f} s "
        f"(first record {raw.first_record:.2f} s): ratio {pair.ratio:.3f} ({pair.reading_ratio:.3f} from the first "
        f"record on); a page's turnaround beyond the latency {pair.connector_turnaround_ms:.2f} ms vs "
        f"{pair.raw_turnaround_ms:.2f} ms; connector missing {missing}, "
        f"not in the API {extra}, emitted twice {twice}; requests {sum(requests.values()):,} "
        f"({', '.join(f'{kind} {count:,}' for kind, count in sorted(requests.items()))}) vs {len(raw.keys['bem_events']) // PAGE + 1:,}",
        flush=True,
    )


def report(records: int, results: list[tuple[int, list[Pair], dict]]) -> list[tuple[str, float, float, str]]:
    """One summary line per latency; the targets' rows (name, value, target, sense)."""
    rows = []
    for latency_ms, pairs, _ in results:
        ratios = [pair.ratio for pair in pairs]
        reading = median([pair.reading_ratio for pair in pairs])
        connector = median([pair.connector.seconds for pair in pairs])
        raw = median([pair.raw.seconds for pair in pairs])
        first = median([pair.connector.first_record for pair in pairs])
        turnaround = median([pair.connector_turnaround_ms for pair in pairs])
        raw_turnaround = median([pair.raw_turnaround_ms for pair in pairs])
        missing = max(pair.exact[0] for pair in pairs)
        twice = max(pair.exact[2] for pair in pairs)
        print(
            f"bem first sync: {records:,} events over {BEM_DAYS} days, {latency_ms} ms a request, start-up included: "
            f"{connector:.1f} s vs {raw:.1f} s sequential, ratio {median(ratios):.3f} (median of {len(ratios)}: "
            f"{', '.join(f'{ratio:.3f}' for ratio in ratios)}); first record after {first:.2f} s; from the first "
            f"record on (start-up left out) ratio {reading:.3f}; a page's turnaround beyond the latency (median, "
            f"the emulator's view) {turnaround:.2f} ms vs {raw_turnaround:.2f} ms; missing {missing}, emitted twice "
            f"{twice}"
        )
        rows.append((f"bem first sync / sequential reader, {latency_ms} ms", median(ratios), TARGET_RATIO, "<="))
        rows.append((f"bem first sync, events missing, {latency_ms} ms", missing, 0, "<="))
    return rows
