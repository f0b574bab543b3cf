"""The README's first command, `source-events demo`, on a small dataset: it must sync end to end and
report a destination equal to the source."""

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
    full, incremental, source, missing, extra = (int(n) for n in rows["flameup_events"].split())
    assert (full, missing, extra) == (400, 0, 0) and incremental >= source - full
    full, incremental, source, missing, extra = (int(n) for n in rows["bem_events"].split())
    assert (full, missing, extra) == (300, 0, 0) and incremental >= source - full  # and its lookback, read again
    assert "OK: destination equals source" in result.stdout
    assert (tmp_path / "state.json").exists() and (tmp_path / "bem_events.jsonl").exists()
