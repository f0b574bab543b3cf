"""One sample emulator per test process, on an ephemeral port (testkit.emulator.session_emulator),
stopped when the session ends; the CDK's standard-test hooks; a clock that moves only when the connector
sleeps."""

from types import SimpleNamespace

import pytest

from source_events import cdk_contact
from source_events.common import backoff, budget
from testkit.emulator import FakeClock, stop_session_emulator

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


def pytest_sessionfinish(session, exitstatus):
    stop_session_emulator()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """Retries and API-budget waits are recorded and added to a fake clock instead of slept."""
    fake = FakeClock()
    monkeypatch.setattr(cdk_contact.RETRY_SLEEPS_IN, "time", SimpleNamespace(sleep=fake.retry_sleep))
    monkeypatch.setattr(cdk_contact.BUDGET_SLEEPS_IN, "time", SimpleNamespace(sleep=fake.budget_sleep))
    monkeypatch.setattr(budget, "time", SimpleNamespace(time=fake.time))
    monkeypatch.setattr(backoff, "time", SimpleNamespace(time=fake.time))
    return fake
