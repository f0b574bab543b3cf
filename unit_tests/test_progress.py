"""During a long read the connector logs each stream's progress itself, at a bounded interval."""

from source_events.common.checkpoints import ReadProgress
from unit_tests.builders import BEM, bem_events_in_seconds, catalog, run_read


def test_a_long_read_logs_records_read_and_the_rate_per_stream(config, bem, http, monkeypatch):
    monkeypatch.setattr(ReadProgress, "INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(ReadProgress, "CHECK_EVERY", 10)
    bem.events = bem_events_in_seconds({1_790_000_000 + i: 1 for i in range(35)})

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    progress = [m.log.message for m in output.logs if m.log.message.startswith("Stream bem_events:")]
    assert [line.split(" records read")[0] for line in progress] == [f"Stream bem_events: {n}" for n in (10, 20, 30)]
    assert all(line.endswith("records/s)") for line in progress)


def test_progress_is_not_logged_more_often_than_the_interval(config, bem, http, monkeypatch):
    monkeypatch.setattr(ReadProgress, "CHECK_EVERY", 10)  # the default interval, 30 s, is longer than this read
    bem.events = bem_events_in_seconds({1_790_000_000 + i: 1 for i in range(35)})

    output = run_read(config.with_bem(page_size=10).build(), catalog(BEM))

    assert not [m for m in output.logs if m.log.message.startswith("Stream bem_events:")]
