import pytest

from testkit.emulator import running_emulator


@pytest.fixture
def server():
    """An emulator with no events yet: each test gives the APIs their data and behaviour."""
    with running_emulator() as running:
        yield running
