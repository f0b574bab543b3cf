"""The emulator's APIs called over real HTTP, with the credentials testkit.emulator.running_emulator serves."""

import requests

from source_events.emulator.sample import BEM_API_KEY, FLAMEUP_API_KEY, WORKSPACE_ID
from source_events.emulator.server import EmulatorServer

FLAMEUP_AUTH = {"Authorization": f"Bearer {FLAMEUP_API_KEY}"}
BEM_AUTH = {"x-api-key": BEM_API_KEY}


def flameup_get(server: EmulatorServer, timeout: float = 5, **params) -> requests.Response:
    url = f"{server.flameup_base_url}/workspaces/{WORKSPACE_ID}/events"
    return requests.get(url, params=params, headers=FLAMEUP_AUTH, timeout=timeout)


def bem_get(server: EmulatorServer, timeout: float = 5, **params) -> requests.Response:
    return requests.get(f"{server.bem_base_url}/events", params=params, headers=BEM_AUTH, timeout=timeout)


def flameup_ids(server: EmulatorServer, **params) -> list[str]:
    answer = flameup_get(server, **params)
    assert answer.status_code == 200, answer.text
    return [e["id"] for e in answer.json()["events"]]


def bem_ids(server: EmulatorServer, **params) -> list[str]:
    answer = bem_get(server, **params)
    assert answer.status_code == 200, answer.text
    return [e["eventID"] for e in answer.json()["events"]]
