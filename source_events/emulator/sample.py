"""The sample deployment: the emulator with seeded data for both APIs, and the credentials that
integration_tests/sample_config.json, the demo and `python -m source_events.emulator` use."""

from datetime import timedelta
from typing import Any

from source_events.emulator.bem import BemApi, BemBehaviour
from source_events.emulator.datasets import bem_events, default_window, flameup_events
from source_events.emulator.flameup import FlameupApi, FlameupBehaviour
from source_events.emulator.server import EmulatorServer

WORKSPACE_ID = "ws_emulator"
FLAMEUP_API_KEY = "ws_test_emulator_key"
BEM_API_KEY = "bem_emulator_key"
STANDARD_PORT = 47651  # integration_tests/sample_config.json points here


def sample_server(
    port: int = 0,
    flameup_count: int = 500,
    bem_count: int = 500,
    seed: int = 1,
    flameup_behaviour: FlameupBehaviour | None = None,
    bem_behaviour: BemBehaviour | None = None,
) -> EmulatorServer:
    start, end = default_window()
    return EmulatorServer(
        flameup=FlameupApi(
            WORKSPACE_ID,
            FLAMEUP_API_KEY,
            flameup_events(flameup_count, start, end, WORKSPACE_ID, seed=seed),
            flameup_behaviour,
        ),
        bem=BemApi(BEM_API_KEY, bem_events(bem_count, start, end, seed=seed), bem_behaviour),
        port=port,
    )


def sample_config(server: EmulatorServer) -> dict[str, Any]:
    """A connector config for a running sample server: both APIs, its URLs and credentials, and a
    `start_date` (a date, so midnight UTC) the day before its oldest events."""
    start, _ = default_window()
    return {
        "flameup": {
            "api_key": FLAMEUP_API_KEY,
            "workspace_id": WORKSPACE_ID,
            "start_date": (start - timedelta(days=1)).date().isoformat(),
            "base_url": server.flameup_base_url,
        },
        "bem": {"api_key": BEM_API_KEY, "base_url": server.bem_base_url},
    }
