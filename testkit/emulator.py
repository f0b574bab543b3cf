"""What the end-to-end tests share: emulators on ephemeral ports and configs that point at them."""

import time
from typing import Any

from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID, sample_server
from source_events.emulator.server import PRIMARY_KEYS, EmulatorServer
from testkit.builders import record_ids

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
