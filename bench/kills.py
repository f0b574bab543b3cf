"""A first sync killed (SIGKILL) at random moments and resumed from the last state it emitted: the work done twice.

For each kill point: the records the resumed sync emitted that the killed one had emitted already (a killed
sync's records reached the destination, so these are duplicates a user pays for), and the requests the
killed and the resumed sync sent beyond one uninterrupted sync of the same data. Both streams at the default
settings; Flameup at its documented limit (120 requests a minute, the emulator enforcing it, pages of 100),
bem at a round trip's latency. Each run gets an emulator of its own over the same data: the resumed sync
starts with the key's minute unspent, as after the platform's retry delay. Nothing is lost (checked against
the emulator's ground truth).
"""

import contextlib
import io
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from harness import FLAMEUP_DAYS, bem_api, connector_args, flameup_api, run_child

from source_events.emulator import FlameupBehaviour
from source_events.emulator.server import EmulatorServer, RateLimit

BEM_PAGE, FLAMEUP_CAP = 100, 100
# "about one window or one page": the worst repeat judged against this many
ABOUT_ONE = 1.5


class _Runs:
    """Runs of one stream's sync, each against an emulator of its own over the same data."""

    def __init__(self, stream: str, apis: tuple, folder: Path, start, latency_ms: int) -> None:
        self.stream, self._apis, self._folder, self._start, self._latency = stream, apis, folder, start, latency_ms

    def run(self, state=None, kill_after: float | None = None):
        """The run, the requests its emulator received, and their queries, and the ground truth."""
        limit = RateLimit(requests=120, per_seconds=60) if self.stream == "flameup_events" else None
        # a killed sync leaves the emulator's answers to it unread: its broken pipes (written while the server
        # shuts down too) are no news
        quiet = contextlib.redirect_stderr(io.StringIO()) if kill_after is not None else contextlib.nullcontext()
        with quiet, EmulatorServer(*self._apis, latency_seconds=self._latency / 1000, rate_limit=limit) as server:
            args = connector_args(
                self._folder, server, [self.stream], start=self._start - timedelta(days=1), state=state
            )
            run = run_child(args, kill_after=kill_after)
            return run, list(server.received), server.ground_truth()[self.stream]


def kills(
    points: int,
    seed: int,
    flameup_records: int,
    bem_records: int,
    latency_ms: int,
    streams: tuple[str, ...] = ("flameup_events", "bem_events"),
) -> list[tuple]:
    """`points` kill points a stream; the targets' rows: the worst repeat, in windows (Flameup) and pages (bem)."""
    flameup, start = flameup_api(flameup_records, FlameupBehaviour(limit_cap=FLAMEUP_CAP))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for stream in streams:
            apis = (flameup, None) if stream == "flameup_events" else (None, bem_api(bem_records))
            runs = _Runs(stream, apis, Path(folder), start, latency_ms)
            whole, received, truth = runs.run()
            if stream == "flameup_events":
                # a window's events, on average: the windows are the time ranges of its pages that no other range
                # holds (inside one: the check of what lies beyond a window's listing, source_events.flameup.depth)
                ranges = {
                    (q.query.get("since")[0], q.query.get("until")[0])
                    for q in received[1:]
                    if q.query.get("limit") != ["1"]
                }
                windows = {r for r in ranges if not any(o != r and o[0] <= r[0] and r[1] <= o[1] for o in ranges)}
                unit, unit_events = "windows", whole.records / len(windows)
                lookback = f"; {len(truth) / (FLAMEUP_DAYS * 1440) * 10:.1f} events in the 10-minute lookback"
            else:
                unit, unit_events, lookback = "pages", BEM_PAGE, ""
            print(
                f"kills: {stream} uninterrupted: {whole.records:,} records, {len(received):,} requests, "
                f"{whole.seconds:.0f} s; a {unit[:-1]} holds {unit_events:,.0f} events{lookback}",
                flush=True,
            )
            rng = random.Random(seed)
            worst = 0.0
            # between the first record and the end: before it, nothing was done to repeat
            for moment in sorted(rng.uniform(whole.first_record, whole.seconds - 0.5) for _ in range(points)):
                killed, killed_requests, _ = runs.run(kill_after=moment)
                resumed, resumed_requests, _ = runs.run(state=killed.states)
                before, after = killed.keys.get(stream, []), resumed.keys.get(stream, [])
                again = len(set(before) & set(after))
                missing = len(truth - set(before) - set(after))
                extra_requests = len(killed_requests) + len(resumed_requests) - len(received)
                worst = max(worst, again / unit_events)
                print(
                    f"kills: {stream} killed at {moment:5.1f} s ({len(before):,} records, {len(killed_requests):,} "
                    f"requests, {'a state' if killed.states else 'no state yet'}): resumed {len(after):,} records, "
                    f"{len(resumed_requests):,} requests; emitted again {again:,} records = {again / unit_events:.2f} "
                    f"{unit}; requests beyond one sync {extra_requests:+,}; missing {missing}",
                    flush=True,
                )
                rows.append((f"kill-resume, {stream}, events missing (killed at {moment:.0f} s)", missing, 0, "<="))
            rows.append((f"kill-resume, {stream}, worst records emitted again, in {unit}", worst, ABOUT_ONE, "<="))
    return rows
