"""During a long read the connector logs each stream's progress itself, every interval, whether records are
flowing or the read is waiting (source_events/common/progress.py)."""

import threading

from source_events.common.progress import ReadProgress
from source_events.emulator import BemApi
from testkit.builders import BEM, bem_events_in_seconds, catalog, run_read


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_report_says_records_read_elapsed_time_and_rate():
    clock, lines = _Clock(), []
    progress = ReadProgress("bem_events", log=lines.append, clock=clock)
    progress.start()
    progress.stop()  # its timer ends at once: this test asks for the report itself

    for _ in range(1500):
        progress.count()
    clock.now += 30
    progress.report()

    assert lines == ["Stream bem_events: 1,500 records read in 30 s (50 records/s)"]


def test_the_timer_reports_every_interval_until_stopped_even_while_no_record_arrives():
    reported = threading.Semaphore(0)
    lines: list[str] = []

    def log(text: str) -> None:
        lines.append(text)
        reported.release()

    progress = ReadProgress("flameup_events", log=log, interval=0.001)
    progress.start()
    assert all(reported.acquire(timeout=5) for _ in range(3))  # three intervals, not a record counted
    progress.stop()

    assert lines[0].startswith("Stream flameup_events: 0 records read in ")


def test_a_read_logs_its_progress_through_the_protocol(config, bem: BemApi, http, monkeypatch):
    monkeypatch.setattr(ReadProgress, "INTERVAL_SECONDS", 0.001)
    bem.events = bem_events_in_seconds({1_790_000_000 + i: 1 for i in range(300)})

    output = run_read(config.with_bem(page_size=1).build(), catalog(BEM))

    progress = [m.log.message for m in output.logs if " records read in " in m.log.message]
    assert progress and all(line.startswith("Stream bem_events: ") and line.endswith("records/s)") for line in progress)
    counts = [int(line.split(": ")[1].split(" ")[0].replace(",", "")) for line in progress]
    assert counts == sorted(counts) and counts[-1] <= 300
    # once bem's `totalCount` has said how many a first sync reads, the lines say it too (an estimate)
    assert progress[-1].split(" records read")[0].endswith("of about 300")
