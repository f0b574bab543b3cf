"""Adversarial checks of how Flameup's windows are admitted (source_events.flameup.in_flight): what a reader's
cycle measures, and what the sync does when a window's read ends other than by reading to its end."""

import random
from datetime import timedelta
from types import SimpleNamespace

from source_events import cdk_contact
from source_events.flameup import retriever as retriever_module
from source_events.flameup.windows import window_slice
from source_events.source import SourceEvents
from testkit.builders import FLAMEUP, a_flameup_event, catalog, iso, utc


def _flameup_retriever(cfg):
    source = SourceEvents(catalog(FLAMEUP), cfg, None)
    stream = next(s for s in source.streams(cfg) if s.name == FLAMEUP)
    return cdk_contact.retriever_of(stream)


def test_time_the_records_wait_downstream_is_not_taken_for_a_reader_too_slow_for_the_pace(
    config, flameup, http, monkeypatch
):
    """A reader hands each record on (to the CDK's queue, bounded, drained by stdout's writer). A slow
    destination blocks that hand-off: it is the writer that cannot keep up, and a second reader would not
    read faster, only repeat one more window after a kill. The cycle counts the round trip and the reader's own
    handling, not the time its records waited to be taken."""
    rng = random.Random(5)
    now = utc("2026-12-04T12:00:00Z")
    start = now - timedelta(days=1)
    flameup.events = [a_flameup_event(iso(start + timedelta(seconds=rng.uniform(0, 86_000))), rng) for _ in range(40)]
    retriever = _flameup_retriever(config.with_flameup(start_date=iso(start), page_size=5).build())
    clock = SimpleNamespace(now=1_000.0)
    monkeypatch.setattr(retriever_module, "time", SimpleNamespace(monotonic=lambda: clock.now))

    read = 0
    for _ in retriever.read_records({}, window_slice(start, now)):
        read += 1
        clock.now += 0.4  # the destination takes each record 0.4 s after it was handed on: 2 s a page of 5

    assert read == 40
    assert retriever.windows_in_flight.allowed == 1  # round trips answered at once: one reader keeps the pace
