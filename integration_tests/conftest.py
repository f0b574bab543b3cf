"""The API emulator, served for the whole integration session on the port sample_config.json names."""

import pytest

from source_events.emulator.sample import STANDARD_PORT, sample_server

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


@pytest.fixture(scope="session", autouse=True)
def standard_emulator():
    with sample_server(port=STANDARD_PORT) as server:
        yield server
