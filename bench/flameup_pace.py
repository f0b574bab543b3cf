"""Flameup at its documented limit, 120 requests a minute (the emulator enforces it; the connector paces to
`requests_per_minute` 120, its default), for each way an API may treat a large `limit` (`flameup.page_size`
unset: the connector finds the page size at run time):

- the pace: requests a minute over the budget's complete cycles (it spends a minute's allowance, then waits
  for the minute to pass; the last, partial burst left out), the busiest 60 s, and 429 answers;
- events a minute over the same cycles (the records the connector had emitted when the last cycle began),
  against the most the limit allows: the limit times the API's true cap;
- where the requests went, from the emulator's request log (every request replayed against the emulator's
  API, which answers the same while nothing changes): the first look, the window planner's `limit=1` probes,
  each window's closing empty page, the requests that show a listing's end (`end proofs`: the history asked,
  `FlameupRetriever._prove_end`, or a window's own range asked again no deeper than Flameup served,
  `_end_within_served_depth`: a window's empty answers past its first), refused page sizes, and the events a request could have carried but did
  not (the one-event overlap after each full page, events two windows both listed, the room left in short
  and last pages). Together they are exactly what separates events a request from the true cap.
"""

import bisect
import tempfile
from datetime import timedelta
from pathlib import Path

from harness import connector_args, flameup_api, missing_and_repeated, run_child

from source_events.emulator import FlameupBehaviour
from source_events.emulator.sample import FLAMEUP_API_KEY
from source_events.emulator.server import FLAMEUP_PREFIX, EmulatorServer, RateLimit

CASES = [
    ("silent cap at 100", FlameupBehaviour(limit_cap=100), 100),
    ("400 above 100", FlameupBehaviour(limit_cap=100, limit_over_cap="reject"), 100),
    ("honours 1000", FlameupBehaviour(limit_cap=1000), 1000),
]
PACE_TARGET, EVENTS_TARGET = 0.99, 0.95
PAUSE_SECONDS = 5  # a gap this long between requests is the budget waiting for its minute to pass


def pace(minutes: float, latency_ms: int, cases: list = CASES, limit: int = 120) -> list[tuple[str, float, float, str]]:
    """Each case for about `minutes` complete budget cycles; the targets' rows."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, behaviour, cap in cases:
            # enough events for `minutes` of requests at the cap and a burst past them, whatever windows cost
            records = int(limit * (minutes + 0.3) * cap)
            api, start = flameup_api(records, behaviour)
            rate_limit = RateLimit(requests=limit, per_seconds=60)
            with EmulatorServer(api, None, latency_seconds=latency_ms / 1000, rate_limit=rate_limit) as server:
                args = connector_args(
                    Path(folder), server, ["flameup_events"], start=start - timedelta(days=1), requests_per_minute=limit
                )
                run = run_child(args, keep_times=True)
                truth = server.ground_truth()["flameup_events"]
                arrivals, refused = list(server.flameup_arrivals), server.rate_limited
                costs = request_costs(api, [r for r in server.received if r.api == "flameup"], cap)
            missing, extra, twice = missing_and_repeated(run.keys.get("flameup_events", []), truth)
            cycles_end = _last_cycle_start(arrivals)
            span = arrivals[cycles_end] - arrivals[0]
            sustained = cycles_end / span * 60
            emitted = bisect.bisect_left(run.record_times, arrivals[cycles_end] - run.launched_at)
            per_minute = emitted / span * 60
            busiest = max(bisect.bisect_left(arrivals, t + 60) - i for i, t in enumerate(arrivals))
            best = limit * cap
            # under a complete budget minute there is no pace to speak of: a burst of the first minute's allowance
            rates = (
                f"pace {sustained:6.1f}/min ({sustained / limit:.1%} of {limit}) over {cycles_end} requests in "
                f"{span:.0f} s, busiest 60 s {busiest}, 429 answers {refused}; {per_minute:,.0f} events/min = "
                f"{per_minute / best:.1%} of {limit}/min x {cap:,}"
                if span >= 60
                else f"no complete budget minute (a first burst of {len(arrivals)} requests: pace and events a minute not "
                f"measured), busiest 60 s {busiest}, 429 answers {refused}"
            )
            print(
                f"flameup pace: {name:<17} {len(truth):>7,} events in {run.seconds:5.0f} s, {len(arrivals):,} requests: "
                f"{rates}; missing {missing}, emitted twice {twice}",
                flush=True,
            )
            _print_costs(name, costs, len(truth), cap)
            rows.append((f"Flameup pace, share of {limit}/min, {name}", sustained / limit, PACE_TARGET, ">="))
            rows.append((f"Flameup 429 answers, {name}", refused, 0, "<="))
            rows.append(
                (f"Flameup events/min, share of {limit} x {cap}, {name}", per_minute / best, EVENTS_TARGET, ">=")
            )
            rows.append((f"Flameup events missing, {name}", missing, 0, "<="))
    return rows


def _last_cycle_start(arrivals: list[float]) -> int:
    """The index of the first request of the budget's last cycle (after the last pause); the last request if the
    run never paused."""
    pauses = [i for i in range(1, len(arrivals)) if arrivals[i] - arrivals[i - 1] > PAUSE_SECONDS]
    return pauses[-1] if pauses else len(arrivals) - 1


def request_costs(api, received: list, cap: int) -> dict[str, float]:
    """Every request the connector sent, by what it was for, and the events requests could have carried but did
    not, in requests (events / cap): see the module."""
    costs = dict.fromkeys(
        ("requests", "refused page sizes", "first look", "probes", "end proofs", "closing empty pages", "data pages"),
        0.0,
    )
    costs.update(dict.fromkeys(("overlap", "listed by two windows", "room in short pages"), 0.0))
    seen: dict[tuple, set[str]] = {}  # window -> the IDs its pages listed
    window_of: dict[str, tuple] = {}  # ID -> the window that listed it first
    first_look: tuple | None = None
    closed: set[tuple] = set()  # the windows whose listing answered empty
    # the history from `start_date` holds the first look's range (the sync's): a page of it past offset 0 shows a
    # listing's end (`_prove_end`), unless the sync was one window, the first look's range itself. The planner
    # probes (`limit=1`) each part it cuts the history into: none probed means one window. (Not "no request on a
    # part": the check beyond a window's end asks a part of it, and took a one-window sync's pages for end proofs.)
    ranges = [_range_of(request) for request in received]
    one_window = not any(
        request.query.get("limit") == ["1"] and r != ranges[0] and _holds(ranges[0], r)
        for request, r in zip(received[1:], ranges[1:], strict=True)
    )
    for request in received:
        query = {name: values[0] for name, values in request.query.items()}
        answer = api.list_events(
            request.path[len(FLAMEUP_PREFIX) :], request.query, {"Authorization": f"Bearer {FLAMEUP_API_KEY}"}
        )
        costs["requests"] += 1
        if answer.status != 200:
            costs["refused page sizes"] += 1
            continue
        ids = [event["id"] for event in answer.body["events"]]
        window, limit, offset = (query.get("since"), query.get("until")), int(query["limit"]), int(query["offset"])
        if first_look is None:
            first_look = (window, len(ids))
            costs["first look"] += 1
            continue
        if limit == 1:
            # the first look's `limit=1` after a short first page (is it the cap?), else a planner's probe
            followed_first_look = costs["probes"] == 0 and (window, offset) == first_look
            costs["first look" if followed_first_look else "probes"] += 1
            continue
        if offset > 0 and not one_window and _holds(window, first_look[0]):
            costs["end proofs"] += 1
            continue
        listed = seen.setdefault(window, set())
        if not ids:
            # a window's last page, an empty window's only one; another after it shows that it was the end
            costs["end proofs" if window in closed else "closing empty pages"] += 1
            closed.add(window)
            continue
        costs["data pages"] += 1
        costs["overlap"] += sum(1 for i in ids if i in listed) / cap
        for event_id in ids:
            if event_id not in listed and window_of.setdefault(event_id, window) != window:
                costs["listed by two windows"] += 1 / cap
        listed.update(ids)
        costs["room in short pages"] += (min(limit, cap) - len(ids)) / cap
    costs["windows"] = len(seen)
    costs["empty windows"] = sum(1 for listed in seen.values() if not listed)
    return costs


def _range_of(request) -> tuple:
    return request.query.get("since", [None])[0], request.query.get("until", [None])[0]


def _holds(outer: tuple, inner: tuple) -> bool:
    """Whether the time range `outer` (since, until) holds `inner` (ISO times in one format compare as text)."""
    return None not in outer + inner and outer[0] <= inner[0] and inner[1] <= outer[1]


def _print_costs(name: str, costs: dict[str, float], events: int, cap: int) -> None:
    requests = costs["requests"]
    parts = [
        "refused page sizes",
        "first look",
        "probes",
        "end proofs",
        "closing empty pages",
        "overlap",
        "listed by two windows",
        "room in short pages",
    ]
    lost = sum(costs[part] for part in parts)
    shown = ", ".join(f"{part} {costs[part]:,.1f} ({costs[part] / requests:.2%})" for part in parts)
    print(
        f"flameup costs: {name:<17} {requests:,.0f} requests over {costs['windows']:,.0f} windows "
        f"({costs['empty windows']:,.0f} empty); ideal "
        f"{events / cap:,.1f} (events / {cap:,}); in requests: {shown}; together {lost:,.1f} = "
        f"{lost / requests:.2%}: {events / (requests * cap):.2%} of a full page a request",
        flush=True,
    )
