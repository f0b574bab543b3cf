"""The API budget (source_events/common/budget.py): each Flameup request counts from when it is sent until a
minute after its answer, so no minute of the API's own counting holds more than the limit, whatever the
requests' travel times; a 429 of the API's limiter widens the pace; a spent key holds every request."""

import gc
import heapq
import logging
import random
import time
import weakref
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import requests
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit
from airbyte_cdk.test.entrypoint_wrapper import read

from source_events import SourceEvents
from source_events.common import budget
from source_events.common.budget import PacingPolicy
from testkit.builders import FLAMEUP, a_flameup_event, catalog, iso, record_ids

_A_FLAMEUP_REQUEST = requests.Request("GET", "https://api.flameup.ai/api/v1/workspaces/ws/events").prepare()


def test_after_a_sync_the_budget_holds_none_of_the_requests_it_counted(config, flameup, http):
    start = datetime.now(timezone.utc) - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(300)]
    cfg = config.with_flameup(start_date=iso(start), page_size=10).build()
    source = SourceEvents(catalog(FLAMEUP), cfg, None)  # kept alive, and with it the budget

    output = read(source, cfg, catalog(FLAMEUP))
    sent = [weakref.ref(request._request) for request in http.request_history]  # the PreparedRequests
    http.reset()  # requests-mock's history holds every request too
    gc.collect()

    assert len(record_ids(output, FLAMEUP, "id")) == 300
    assert len(sent) > 30 and [ref for ref in sent if ref() is not None] == []


class _Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(budget, "time", SimpleNamespace(time=fake.time))
    return fake


def _policy(limit: int = 1000) -> PacingPolicy:
    return PacingPolicy(limit=limit, interval=timedelta(seconds=60), matchers=[])


def _requests(count: int) -> list[requests.PreparedRequest]:
    """Distinct requests, held by the test: the policy knows a request by its id(), which Python reuses once
    an object is freed (a freed one's id is then a retry's, as in a sync)."""
    return [
        requests.Request("GET", "https://api.flameup.ai/api/v1/workspaces/ws/events").prepare() for _ in range(count)
    ]


def _wait_asked(policy: PacingPolicy, request: object) -> float:
    with pytest.raises(CallRateLimitHit) as hit:
        policy.try_acquire(request, weight=1)
    return hit.value.time_to_wait.total_seconds()


@pytest.mark.parametrize(
    "test_name, available_calls, resets_in, blocks",
    [
        ("remaining_zero_with_a_reset_blocks_until_it", 0, 30, True),
        ("a_429_without_headers_blocks_nothing", 0, None, False),  # the CDK reads any 429 as 0 calls left
        ("calls_left_block_nothing", 5, 30, False),
        ("a_reset_alone_blocks_nothing", None, 30, False),
    ],
)
def test_the_pacing_policy_blocks_only_when_the_api_says_the_key_is_spent(
    test_name, available_calls, resets_in, blocks
):
    policy = _policy()
    reset = datetime.fromtimestamp(int(time.time()) + resets_in) if resets_in else None

    policy.update(available_calls=available_calls, call_reset_ts=reset)

    if blocks:
        assert 28 <= _wait_asked(policy, _A_FLAMEUP_REQUEST) <= 30
    else:
        policy.try_acquire(_A_FLAMEUP_REQUEST, weight=1)  # no wait: this would raise CallRateLimitHit


def test_a_spent_key_the_pace_itself_spent_waits_for_the_pace_not_for_the_whole_second_of_the_reset(clock):
    policy = _policy(limit=1)
    policy.try_acquire(_A_FLAMEUP_REQUEST, weight=1)
    policy.answered(_A_FLAMEUP_REQUEST, rate_limited=False)
    policy.update(available_calls=0, call_reset_ts=datetime.fromtimestamp(int(clock.now) + 61))

    assert _wait_asked(policy, _requests(1)[0]) == pytest.approx(60)  # the pace's own minute, not the reset


def test_a_request_counts_until_a_minute_after_its_answer_not_after_it_was_sent(clock):
    policy = _policy(limit=2)
    first, second, third, fourth = _requests(4)
    policy.try_acquire(first, weight=1)
    policy.try_acquire(second, weight=1)
    clock.now += 10
    policy.answered(first, rate_limited=False)  # answered 10 s after it was sent
    clock.now += 55  # 65 s after it was sent, 55 s after its answer

    assert _wait_asked(policy, third) == pytest.approx(5)
    clock.now += 5
    policy.try_acquire(fourth, weight=1)  # a minute after the first answer: it no longer counts


def test_while_the_whole_budget_is_in_flight_the_next_request_waits_a_minute(clock):
    policy = _policy(limit=2)
    first, second, third = _requests(3)
    policy.try_acquire(first, weight=1)
    policy.try_acquire(second, weight=1)

    assert _wait_asked(policy, third) == pytest.approx(60)  # no answer can free one sooner


def test_a_retry_of_the_same_request_ends_its_earlier_attempt(clock):
    policy = _policy(limit=3)
    dropped, other, waiting, later = _requests(4)
    policy.try_acquire(dropped, weight=1)
    policy.try_acquire(other, weight=1)
    clock.now += 3
    policy.try_acquire(dropped, weight=1)  # the connection dropped; the CDK retries the same request at once

    assert _wait_asked(policy, waiting) == pytest.approx(60)  # the dropped attempt counts from its end
    clock.now += 60
    policy.answered(dropped, rate_limited=False)  # the retry's answer
    policy.try_acquire(waiting, weight=1)  # the dropped attempt no longer counts
    assert _wait_asked(policy, later) == pytest.approx(60)  # the retry counts until a minute after its answer


def test_a_request_never_answered_stops_counting_after_it_surely_reached_the_api(clock):
    policy = _policy(limit=1)
    lost, waiting = _requests(2)
    policy.try_acquire(lost, weight=1)  # its error ended the partition, unretried: never answered

    clock.now += budget.IN_FLIGHT_AT_MOST_SECONDS + 59
    assert _wait_asked(policy, waiting) == pytest.approx(1)
    clock.now += 1
    policy.try_acquire(waiting, weight=1)


def test_a_long_wait_of_the_pace_is_said_once_a_budget_window_however_many_readers_wait(clock, caplog):
    policy = _policy(limit=1)
    sent, *readers = _requests(9)
    policy.try_acquire(sent, weight=1)
    policy.answered(sent, rate_limited=False)

    with caplog.at_level(logging.INFO, logger="airbyte"):
        for reader in readers:  # eight readers find the minute spent
            _wait_asked(policy, reader)
        clock.now += 60
        policy.try_acquire(readers[0], weight=1)
        policy.answered(readers[0], rate_limited=False)
        _wait_asked(policy, readers[1])  # the next minute's wait is said again

    said = [r.getMessage() for r in caplog.records if "this minute's are spent" in r.getMessage()]
    assert (
        said
        == [
            "Flameup allows 1 requests per 60 s (`flameup.requests_per_minute`): this minute's are spent, the next goes "
            "out in 60 s."
        ]
        * 2
    )


def test_a_429_of_the_apis_limiter_widens_the_pace_once_logged_and_a_gateways_does_not(clock, caplog):
    policy = _policy(limit=1)
    gateway, limiter = _requests(2)
    policy.try_acquire(gateway, weight=1)
    policy.answered(gateway, rate_limited=False)  # a gateway's 429: Retry-After only
    assert policy.interval == 60

    with caplog.at_level(logging.WARNING, logger="airbyte"):
        for _ in range(40):
            clock.now += policy.interval
            policy.try_acquire(limiter, weight=1)
            policy.answered(limiter, rate_limited=True)

    assert policy.interval == pytest.approx(90)  # 2 s a time, at most half as much again
    warnings = [r.getMessage() for r in caplog.records if "429" in r.getMessage()]
    assert len(warnings) == 1 and "`flameup.requests_per_minute`" in warnings[0]


def _simulate(
    limit: int, workers: int, seed: int, api_seconds: float = 60, requests_wanted: int = 250
) -> tuple[list[float], float, int]:
    """Workers send requests as fast as the policy lets them; each travels a random time to the API, and its
    answer a random time back; now and then a connection drops, after the request arrived or before, and the
    same request is retried. The API accepts at most `limit` arrivals in any `api_seconds` and answers the
    rest 429 (retried 2 s later). Returns the API's accepted arrival times, when the last answer came back,
    and how many 429s it gave. Time is simulated: the policy reads the simulation's clock."""
    rng = random.Random(seed)
    clock = _Clock(0.0)
    budget.time = SimpleNamespace(time=clock.time)
    policy = PacingPolicy(limit=limit, interval=timedelta(seconds=60), matchers=[])
    counted: list[float] = []
    refused = 0
    events: list[tuple[float, int, str, object]] = []  # (time, order, what, request)
    order = 0
    for _ in range(workers):
        order += 1
        heapq.heappush(events, (rng.uniform(0, 2), order, "send", object()))
    sent = 0
    while events:
        clock.now, _, what, request = heapq.heappop(events)
        order += 1
        if what == "send":
            try:
                policy.try_acquire(request, weight=1)
            except CallRateLimitHit as hit:
                heapq.heappush(events, (clock.now + hit.time_to_wait.total_seconds(), order, "send", request))
                continue
            there, back = rng.expovariate(1 / 0.3) * rng.choice([1, 1, 1, 10]), rng.expovariate(1 / 0.3)
            heapq.heappush(events, (clock.now + there, order, "arrive", (request, back)))
        elif what == "arrive":
            request, back = request
            dropped = rng.random() < 0.05  # the connection drops: before the request arrived, or after
            if dropped and rng.random() < 0.5:
                heapq.heappush(events, (clock.now + rng.uniform(0, 2), order, "send", request))
                continue
            accepted = sum(1 for at in counted if at > clock.now - api_seconds) < limit
            if accepted:
                counted.append(clock.now)
            if dropped:
                heapq.heappush(events, (clock.now + back + rng.uniform(0, 2), order, "send", request))
            else:
                heapq.heappush(events, (clock.now + back, order, "answer" if accepted else "429", request))
        elif what == "429":
            refused += 1
            policy.answered(request, rate_limited=True)
            heapq.heappush(events, (clock.now + 2, order, "send", request))
        else:
            policy.answered(request, rate_limited=False)
            sent += 1
            if sent + workers <= requests_wanted:
                heapq.heappush(events, (clock.now, order, "send", object()))
    return counted, clock.now, refused


@pytest.mark.parametrize("limit, workers", [(1, 1), (3, 8), (10, 2), (10, 8), (120, 8)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_minute_of_the_apis_counting_holds_more_than_the_limit_whatever_the_travel_times(
    monkeypatch, limit, workers, seed
):
    monkeypatch.setattr(budget, "time", budget.time)  # _simulate replaces it; restored after the test
    counted, ended, refused = _simulate(limit, workers, seed)

    assert refused == 0
    # the API's sliding minute (t - 60, t] never holds limit + 1 arrivals
    assert all(later - earlier >= 60 for earlier, later in zip(counted, counted[limit:], strict=False))
    # and the pace is not much slower than the limit: a minute per `limit` requests, plus travel
    assert ended <= (len(counted) / limit + 2) * 60 * 1.1


@pytest.mark.parametrize("limit, workers", [(4, 1), (4, 8), (120, 8)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_when_the_apis_minute_is_longer_than_documented_its_429s_stop_once_the_pace_has_widened(
    monkeypatch, limit, workers, seed
):
    """The API counts per 66 s, not 60: each of its 429s widens the pace by 2 s, so they end after about
    three widenings (more when several requests were already on their way)."""
    monkeypatch.setattr(budget, "time", budget.time)
    _, _, refused = _simulate(limit, workers, seed, api_seconds=66, requests_wanted=600)

    assert 1 <= refused <= 3 + workers
