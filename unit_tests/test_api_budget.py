"""The API budget paces Flameup without keeping the requests it counted (source_events/budget.py)."""

import gc
from datetime import UTC, datetime, timedelta

import requests
from airbyte_cdk.test.entrypoint_wrapper import read

from source_events import SourceEvents
from unit_tests.builders import FLAMEUP, a_flameup_event, catalog, iso, record_ids


def _requests_in_memory() -> int:
    gc.collect()
    return sum(isinstance(obj, requests.PreparedRequest) for obj in gc.get_objects())


def test_after_a_sync_the_budget_holds_none_of_the_requests_it_counted(config, flameup, http):
    start = datetime.now(UTC) - timedelta(days=2)
    flameup.events = [a_flameup_event(iso(start + timedelta(minutes=i))) for i in range(300)]
    cfg = config.with_flameup(start_date=iso(start), page_size=10).build()
    source = SourceEvents(catalog(FLAMEUP), cfg, None)  # kept alive, and with it the budget's window of 62 s

    output = read(source, cfg, catalog(FLAMEUP))
    http.reset()  # requests-mock's history holds every request too

    assert len(record_ids(output, FLAMEUP, "id")) == 300
    assert len(http.request_history) == 0 and _requests_in_memory() == 0
