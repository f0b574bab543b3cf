"""Run a Python program and append its own peak RSS (KiB) to the file named by $PEAK_RSS_FILE at exit:
    python bench/peak_rss.py -m source_events read ...    |    python bench/peak_rss.py bench/raw_loop.py ...
(The rusage of a forked child also counts the pages it shared with a large parent.)"""

import atexit
import os
import resource
import runpy
import sys


def _report() -> None:
    with open(os.environ["PEAK_RSS_FILE"], "a") as handle:
        handle.write(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\n")


atexit.register(_report)
if sys.argv[1] == "-m":
    sys.argv = [sys.argv[2], *sys.argv[3:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
