"""One sample emulator per test process, on an ephemeral port (testkit.emulator.session_emulator),
stopped when the session ends; the CDK's standard-test hooks; a clock that moves only when the connector
sleeps."""

import pytest

from testkit.emulator import FakeClock, install_fake_clock, stop_session_emulator

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


def pytest_sessionfinish(session, exitstatus):
    stop_session_emulator()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """Retries and API-budget waits are recorded and added to a fake clock instead of slept."""
    return install_fake_clock(monkeypatch)
