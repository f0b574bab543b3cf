"""The README's first command, `source-events demo`, on a small dataset: it must sync end to end and
report every event at the source read, and none else, counting the incremental sync's overlap apart."""

import re
import subprocess
import sys


def test_demo_syncs_both_streams_and_reports_nothing_missing(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "source_events",
            "demo",
            "--output",
            str(tmp_path),
            "--flameup-events",
            "400",
            "--bem-events",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    rows = dict(re.findall(r"^(flameup_events|bem_events)\s+(.*)$", result.stdout, re.MULTILINE))
    for stream, at_start in (("flameup_events", 400), ("bem_events", 300)):
        full, incremental, again, source, missing, extra = (int(n) for n in rows[stream].split())
        assert (full, missing, extra) == (at_start, 0, 0)
        assert incremental - again == source - full  # the new events, once each, beside the lookback read again
        lines = (tmp_path / f"{stream}.jsonl").read_text().splitlines()
        assert len(lines) == full + incremental  # every record of both syncs, as emitted
    assert "OK: every event at the source read, none that is not" in result.stdout
    assert (tmp_path / "state.json").exists()


def test_demo_runs_with_no_events_at_one_api_and_refuses_a_negative_count(tmp_path):
    """A user's first try at a small demo: no bem events at the start (0.5.18 and before: a ValueError traceback)."""
    run = [sys.executable, "-m", "source_events", "demo", "--output", str(tmp_path), "--flameup-events", "50"]

    result = subprocess.run([*run, "--bem-events", "0"], capture_output=True, text=True, timeout=240)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: every event at the source read, none that is not" in result.stdout
    refused = subprocess.run([*run, "--bem-events", "-5"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "-5 is not a number of events (0 or more)" in refused.stderr
