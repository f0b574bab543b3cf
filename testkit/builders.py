"""Builders for configs, catalogs, states and events, and runners for the real entrypoint."""

import json
import random
import tempfile
from collections.abc import Mapping
from copy import deepcopy
from datetime import datetime, timedelta, timezone
from typing import Any

import requests
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.models import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder

from source_events import SourceEvents, cdk_contact
from source_events.common.checkpoints import SCOPE_KEY
from source_events.common.timestamps import parse_timestamp
from source_events.emulator.bem import CREATED_KEY
from source_events.emulator.ids import flameup_event_id, ksuid

FLAMEUP_KEY = "ws_test_FLAMEUP_SECRET_1d2c"
BEM_KEY = "bem_sk_BEM_SECRET_77aa"
WORKSPACE = "ws_demo"
FLAMEUP = "flameup_events"
BEM = "bem_events"


class ConfigBuilder:
    def __init__(self, host: str) -> None:
        self._host = host
        self._config: dict[str, Any] = {}

    def with_flameup(self, **overrides: Any) -> "ConfigBuilder":
        self._config["flameup"] = {
            "api_key": FLAMEUP_KEY,
            "workspace_id": WORKSPACE,
            "start_date": "2026-01-01T00:00:00Z",
            "base_url": f"{self._host}/api/v1",
            **overrides,
        }
        return self

    def with_bem(self, **overrides: Any) -> "ConfigBuilder":
        self._config["bem"] = {"api_key": BEM_KEY, "base_url": f"{self._host}/v1-alpha", **overrides}
        return self

    def build(self) -> dict[str, Any]:
        return deepcopy(self._config)


def catalog(*streams: str, mode: SyncMode = SyncMode.incremental):
    builder = CatalogBuilder()
    for stream in streams:
        builder.with_stream(stream, mode)
    return builder.build()


def state(stream: str, value: Mapping[str, Any]):
    return StateBuilder().with_stream_state(stream, dict(value)).build()


def run_read(config, configured_catalog, stream_state=None, expect_failure: bool = False) -> EntrypointOutput:
    source = SourceEvents(configured_catalog, config, stream_state)
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    output = read(source, config, configured_catalog, stream_state, expected_outcome=outcome)
    if not expect_failure:
        # the CDK's test wrapper only prints a failed sync: a test that expects success fails here, with the cause,
        # rather than later on a count of records that a stream which stopped never emitted
        output.raise_if_errors()
    return output


def run_check(config) -> EntrypointOutput:
    return cdk_contact.run_command(SourceEvents(None, config, None), ["check", "--config", _write_json(config)])


def run_discover(config, expect_failure: bool = False) -> EntrypointOutput:
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return discover(SourceEvents(None, config, None), config, expected_outcome=outcome)


def _write_json(value: Any) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(value, handle)
    return handle.name


def record_ids(output: EntrypointOutput, stream: str, key: str) -> list[str]:
    return [m.record.data[key] for m in output.records if m.record.stream == stream]


def positions_of(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    """The states emitted, without the settings each was read with (`read_with`): what they say of the listing."""
    return [{key: value for key, value in s.items() if key != SCOPE_KEY} for s in states_of(output, stream)]


def states_of(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    # copies, taken now: on Python 3.13 the lists inside the CDK's parsed state blobs were seen emptied later in
    # the same process (a test holding them across more reads; the connector's own output, read from its CLI,
    # was right), so a test compares the states as they were emitted
    return [
        deepcopy(m.state.stream.stream_state.__dict__)
        for m in output.state_messages
        if m.state.stream.stream_descriptor.name == stream
    ]


def flameup_ties(seed: int, count: int, longest: int) -> list[dict[str, Any]]:
    """`count` Flameup events in ties (events sharing a time) of 1 to `longest` events, a second apart, a third of
    them with a fraction of a second; seeded."""
    rng = random.Random(seed)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    events: list[dict[str, Any]] = []
    second = 0
    while len(events) < count:
        moment = base + timedelta(seconds=second, microseconds=rng.choice([0, 0, 250_000]))
        second += 1
        events += [a_flameup_event(iso(moment), rng) for _ in range(rng.randint(1, longest))]
    return events[:count]


def a_flameup_event(timestamp: str, rng: random.Random | None = None, **fields: Any) -> dict[str, Any]:
    rng = rng or random.Random(timestamp)
    return {
        "id": flameup_event_id(rng),
        "workspace_id": WORKSPACE,
        "person_id": "123e4567-e89b-12d3-a456-426614174000",
        "event": "page_view",
        "properties": {"path": "/pricing", "nested": {"depth": 2}},
        "timestamp": timestamp,
        "created_at": timestamp,
        **fields,
    }


def bem_events_in_seconds(counts: Mapping[int, int], seed: int = 7, id_clock_skew: int = 0) -> list[dict[str, Any]]:
    """counts: unix second -> how many events were created in it (created in that order). With `id_clock_skew`,
    each ID is minted by a clock up to that many seconds off, either way, at random."""
    rng = random.Random(seed)
    events = []
    for second in sorted(counts):
        for n in range(counts[second]):
            event_id = ksuid(second + (rng.randint(-id_clock_skew, id_clock_skew) if id_clock_skew else 0), rng)
            events.append(
                {
                    "eventID": event_id,
                    "eventType": "transform",
                    "functionName": "invoice-extractor",
                    "transformedContent": {"total": n},
                    CREATED_KEY: (second, n),
                }
            )
    return events


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def utc(text: str) -> datetime:
    return parse_timestamp(text)


DAY = timedelta(days=1)


def bem_answer(bem: Any, request: Any) -> requests.Response:
    """The emulator's bem answer to a reader's request (source_events.bem.forward.Request), as the requester hands
    it on: for tests that drive a BemReading by hand, without threads."""
    query = {name: [str(value)] for name, value in request.query.items()}
    answer = bem.list_events("/events", query, {"x-api-key": BEM_KEY})
    response = requests.Response()
    response.status_code, response._content = answer.status, json.dumps(answer.body).encode()
    return response
