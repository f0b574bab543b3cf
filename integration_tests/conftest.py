"""The API emulator, served for the whole integration session on the port sample_config.json names."""

from pathlib import Path

import pytest

from source_events.emulator.sample import STANDARD_PORT, sample_server

pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


@pytest.fixture(scope="session", autouse=True)
def standard_emulator():
    with sample_server(port=STANDARD_PORT) as server:
        yield server


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (`-n 2 --dist loadgroup`, CI's run on the newest Python), every test here runs in
    one worker: each worker would start its own `standard_emulator`, and both cannot listen on one port."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("standard_emulator"))
