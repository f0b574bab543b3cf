"""The API budget paces Flameup without keeping the requests it counted (source_events/budget.py)."""

import gc
import time
import weakref
from datetime import datetime, timedelta, timezone

import pytest
import requests
from airbyte_cdk.sources.streams.call_rate import CallRateLimitHit, Rate
from airbyte_cdk.test.entrypoint_wrapper import read

from source_events import SourceEvents
from source_events.common.budget import PacingPolicy
from testkit.builders import FLAMEUP, a_flameup_event, catalog, iso, record_ids

_A_FLAMEUP_REQUEST = requests.Request("GET", "https://api.flameup.ai/api/v1/workspaces/ws/events").prepare()


def test_after_a_sync_the_budget_holds_none_of_the_requests_it_counted(config, flameup, http):
    start = datetime.now(timezone.utc) - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(300)]
    cfg = config.with_flameup(start_date=iso(start), page_size=10).build()
    source = SourceEvents(catalog(FLAMEUP), cfg, None)  # kept alive, and with it the budget's window of 62 s

    output = read(source, cfg, catalog(FLAMEUP))
    sent = [weakref.ref(request._request) for request in http.request_history]  # the PreparedRequests
    http.reset()  # requests-mock's history holds every request too
    gc.collect()

    assert len(record_ids(output, FLAMEUP, "id")) == 300
    assert len(sent) > 30 and [ref for ref in sent if ref() is not None] == []


def _policy() -> PacingPolicy:
    return PacingPolicy(rates=[Rate(limit=1000, interval=timedelta(seconds=62))], matchers=[])


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
        with pytest.raises(CallRateLimitHit) as hit:
            policy.try_acquire(_A_FLAMEUP_REQUEST, weight=1)
        assert 28 <= hit.value.time_to_wait.total_seconds() <= 30
    else:
        policy.try_acquire(_A_FLAMEUP_REQUEST, weight=1)  # no wait: this would raise CallRateLimitHit
