"""What the end-to-end tests share: emulators on ephemeral ports (one way to build one: `running_emulator`),
seeded histories ending now, configs that point at an emulator, the requests it received as query dicts
(`requests_of`), and a clock that moves only when the connector sleeps."""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from source_events.emulator import BemApi, BemBehaviour, FlameupApi, FlameupBehaviour, datasets
from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer, RateLimit
from testkit.builders import FLAMEUP, catalog, record_ids, run_read

# The checked-in configs (integration_tests/*_config.json) name no port: this stands for the session emulator.
EMULATOR_PLACEHOLDER = "http://emulator.invalid"
_SESSION: list[EmulatorServer] = []


def session_emulator() -> EmulatorServer:
    """The sample emulator shared by this test process, started on first use on an ephemeral port. The standard
    tests' scenarios are collected before any fixture runs, so this is not a fixture."""
    if not _SESSION:
        _SESSION.append(sample_server(port=0).start())
    return _SESSION[0]


def stop_session_emulator() -> None:
    while _SESSION:
        _SESSION.pop().stop()


def pointed_at_session_emulator(config: Any) -> Any:
    """A checked-in config with its placeholder base URLs replaced by the session emulator's."""
    if isinstance(config, dict):
        return {key: pointed_at_session_emulator(value) for key, value in config.items()}
    if isinstance(config, str) and config.startswith(EMULATOR_PLACEHOLDER):
        return session_emulator().base_url + config[len(EMULATOR_PLACEHOLDER) :]
    return config


@contextmanager
def running_emulator(
    flameup_events: list[dict[str, Any]] | None = None,
    bem_events: list[dict[str, Any]] | None = None,
    *,
    flameup_behaviour: FlameupBehaviour | None = None,
    bem_behaviour: BemBehaviour | None = None,
    workspace_id: str = WORKSPACE_ID,
    flameup_api_key: str = FLAMEUP_API_KEY,
    bem_api_key: str = BEM_API_KEY,
    latency_seconds: float = 0.0,
    rate_limit: RateLimit | None = None,
    clock: Callable[[], float] = time.time,
) -> Iterator[EmulatorServer]:
    """An emulator serving both APIs on an ephemeral port, for the `with` block. The event lists are the
    APIs' own (empty if not given; a test may change them, or `server.flameup.events`, later). One clock for
    everything that reads time: the rate limit and arrivals, bem's retention and listing delay, events
    added now. The default credentials and workspace are the sample's, which `emulator_config` uses."""
    flameup = FlameupApi(
        workspace_id, flameup_api_key, [] if flameup_events is None else flameup_events, flameup_behaviour, clock
    )
    bem = BemApi(bem_api_key, [] if bem_events is None else bem_events, bem_behaviour, clock)
    with EmulatorServer(flameup, bem, latency_seconds=latency_seconds, rate_limit=rate_limit, clock=clock) as server:
        yield server


def flameup_history(
    count: int, span: timedelta, seed: int, workspace_id: str = WORKSPACE_ID, **options: Any
) -> list[dict[str, Any]]:
    """`count` seeded Flameup events received over `span` up to 5 s ago (`options`: datasets.flameup_events')."""
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    return datasets.flameup_events(count, end - span, end, workspace_id, seed=seed, **options)


def bem_history(count: int, span: timedelta, seed: int, **options: Any) -> list[dict[str, Any]]:
    """`count` seeded bem events created over `span` up to 5 s ago (`options`: datasets.bem_events')."""
    end = datetime.now(timezone.utc) - timedelta(seconds=5)
    return datasets.bem_events(count, end - span, end, seed=seed, **options)


def requests_of(source: Any, api: Literal["flameup", "bem"]) -> list[dict[str, str]]:
    """The query of every request `api` received, in order, as {name: value}. `source` is a running
    `EmulatorServer` or the unit tests' requests-mock `http` fixture (its `request_history`). A name sent
    twice in one request is an error here, not a value silently dropped."""
    if isinstance(source, EmulatorServer):
        queries = [request.query for request in source.received if request.api == api]
    else:
        urls = [urlsplit(request.url) for request in source.request_history]
        queries = [parse_qs(url.query, keep_blank_values=True) for url in urls if _api_of(url.path) == api]
    single = []
    for query in queries:
        repeated = sorted(name for name, values in query.items() if len(values) > 1)
        assert not repeated, f"{api} request with {repeated} sent more than once: {query}"
        single.append({name: values[0] for name, values in query.items()})
    return single


def flameup_end_checks(queries: list[dict[str, str]]) -> set[tuple[str, str]]:
    """The time ranges (since, until) of Flameup page requests that check what lies beyond a window's listing
    (source_events.flameup.depth): a range inside another one asked, sharing one of its bounds. Pass the page
    requests without the sync's first look (its range holds every window's)."""
    ranges = {(q["since"], q["until"]) for q in queries}
    return {
        inner
        for inner in ranges
        for outer in ranges
        if inner != outer
        and outer[0] <= inner[0]
        and inner[1] <= outer[1]
        and (inner[0] == outer[0] or inner[1] == outer[1])
    }


def _api_of(path: str) -> str | None:
    if "/workspaces/" in path:
        return "flameup"
    return "bem" if path.endswith("/events") else None


def emulator_config(
    server: EmulatorServer, flameup: dict[str, Any] = None, bem: dict[str, Any] = None
) -> dict[str, Any]:
    """A config for the APIs given (a dict of overrides each; None leaves that API out)."""
    config: dict[str, Any] = {}
    if flameup is not None:
        config["flameup"] = {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": "2025-01-01T00:00:00Z",
            "base_url": server.flameup_base_url,
            # the emulator does not rate limit unless a test asks it to: do not pace these syncs
            "requests_per_minute": 100_000,
            **flameup,
        }
    if bem is not None:
        config["bem"] = {"api_key": BEM_API_KEY, "base_url": server.bem_base_url, **bem}
    return config


def keys(output: EntrypointOutput, stream: str) -> list[str]:
    return record_ids(output, stream, PRIMARY_KEYS[stream])


def assert_exactly_once(emitted: list[str], expected: set, scenario: str) -> None:
    duplicates = sorted({k for k in emitted if emitted.count(k) > 1})
    missing = sorted(expected - set(emitted))
    extra = sorted(set(emitted) - expected)
    assert not (duplicates or missing or extra), (
        f"{scenario}: {len(missing)} missing {missing[:5]}, {len(extra)} extra {extra[:5]}, "
        f"{len(duplicates)} duplicated {duplicates[:5]} (emitted {len(emitted)}, expected {len(expected)})"
    )


class SyncBounds(NamedTuple):
    """What one stream's sync must emit (every event that existed from its start to its end) and may emit
    (any event that existed at some moment while it ran)."""

    must: set[str]
    may: set[str]


def sync_bounds(truth_at_start: dict[str, set[str]], server: EmulatorServer) -> dict[str, SyncBounds]:
    """Per stream, for a sync that began when `truth_at_start` (`server.ground_truth()`) was taken and has
    ended now: events deleted or expired meanwhile need not be emitted, events added meanwhile may be."""
    at_end, deleted, added = server.ground_truth(), server.deleted_keys(), server.added_keys()
    return {
        stream: SyncBounds(
            must=truth_at_start[stream] & at_end[stream],
            may=truth_at_start[stream] | at_end[stream] | deleted[stream] | added[stream],
        )
        for stream in at_end
    }


class FlameupSync(NamedTuple):
    output: EntrypointOutput
    bounds: SyncBounds  # of flameup_events
    requests: list[dict[str, str]]  # the Flameup requests' queries, in order


def full_flameup_sync(
    events: list[dict[str, Any]], behaviour: FlameupBehaviour, changes: Any = (), faults: Any = (), **settings: Any
) -> FlameupSync:
    """A first sync of Flameup alone, from 2020, against an emulator holding `events` and answering as `behaviour`
    says, with `changes` (source_events.emulator.changes) made while it reads, `faults` answering in the API's place,
    and the Flameup `settings` given (e.g. page_size). A failed sync is returned too."""
    with running_emulator(flameup_events=events, flameup_behaviour=behaviour) as server:
        server.changes.extend(changes)
        server.faults.extend(faults)
        at_start = server.ground_truth()
        config = emulator_config(server, flameup={"start_date": "2020-01-01T00:00:00Z", **settings})
        output = run_read(config, catalog(FLAMEUP), expect_failure=True)
        return FlameupSync(output, sync_bounds(at_start, server)[FLAMEUP], requests_of(server, "flameup"))


def assert_within(emitted: list[str], bounds: SyncBounds, scenario: str, duplicates_allowed: bool = False) -> None:
    """Every event the sync must emit was emitted, nothing it may not emit was, and (unless allowed) none twice."""
    duplicates = [] if duplicates_allowed else sorted(k for k, n in Counter(emitted).items() if n > 1)
    missing = sorted(bounds.must - set(emitted))
    extra = sorted(set(emitted) - bounds.may)
    assert not (duplicates or missing or extra), (
        f"{scenario}: {len(missing)} missing {missing[:5]}, {len(extra)} never existed {extra[:5]}, "
        f"{len(duplicates)} duplicated {duplicates[:5]} (emitted {len(emitted)}, must {len(bounds.must)}, "
        f"may {len(bounds.may)})"
    )


class _BudgetWait(Exception):
    """Raised by the fake clock when the API budget asks to wait and the test wants the sync to end there."""


class FakeClock:
    """Time that passes only when the connector sleeps: each wait is recorded and added to the clock, none
    is slept. The CDK sleeps through `rate_limiting.time` (retries) and `call_rate.time` (the API budget);
    the budget's policy and the backoff strategies read the time through `source_events.common.budget.time`
    and `source_events.common.backoff.time`."""

    def __init__(self) -> None:
        self.now = time.time()
        self.retries: list[float] = []
        self.budget: list[float] = []
        self.end_sync_at_budget_wait = False

    def time(self) -> float:
        return self.now

    def retry_sleep(self, seconds: float) -> None:
        self.retries.append(seconds)
        self.now += seconds

    def budget_sleep(self, seconds: float) -> None:
        self.budget.append(seconds)
        if self.end_sync_at_budget_wait:
            raise _BudgetWait(seconds)
        self.now += seconds


def install_fake_clock(monkeypatch) -> FakeClock:
    """Retries and API-budget waits recorded and added to a fake clock instead of slept (the `clock` fixtures)."""
    from source_events import cdk_contact
    from source_events.common import backoff, budget

    fake = FakeClock()
    monkeypatch.setattr(cdk_contact.RETRY_SLEEPS_IN, "time", SimpleNamespace(sleep=fake.retry_sleep))
    monkeypatch.setattr(cdk_contact.BUDGET_SLEEPS_IN, "time", SimpleNamespace(sleep=fake.budget_sleep))
    monkeypatch.setattr(budget, "time", SimpleNamespace(time=fake.time))
    monkeypatch.setattr(backoff, "time", SimpleNamespace(time=fake.time))
    return fake
