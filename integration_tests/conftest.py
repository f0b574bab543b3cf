"""One sample emulator per test process, on an ephemeral port (integration_tests.harness.session_emulator),
stopped when the session ends; the CDK's standard-test hooks."""

from integration_tests.harness import stop_session_emulator

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


def pytest_sessionfinish(session, exitstatus):
    stop_session_emulator()
