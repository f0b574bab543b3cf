"""One sample emulator per test process, on an ephemeral port (integration_tests.harness.session_emulator),
stopped when the session ends; the CDK's standard-test hooks; a clock that moves only when the connector
sleeps."""

from types import SimpleNamespace

import pytest
from airbyte_cdk.sources.streams import call_rate
from airbyte_cdk.sources.streams.http import rate_limiting

from integration_tests.harness import FakeClock, stop_session_emulator
from source_events.common import budget

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


def pytest_sessionfinish(session, exitstatus):
    stop_session_emulator()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """Retries and API-budget waits are recorded and added to a fake clock instead of slept."""
    fake = FakeClock()
    monkeypatch.setattr(rate_limiting, "time", SimpleNamespace(sleep=fake.retry_sleep))
    monkeypatch.setattr(call_rate, "time", SimpleNamespace(sleep=fake.budget_sleep))
    monkeypatch.setattr(budget, "time", SimpleNamespace(time=fake.time))
    return fake
