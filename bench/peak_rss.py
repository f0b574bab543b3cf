"""Run a Python program and append its own peak RSS (KiB) to the file named by $PEAK_RSS_FILE at exit:
    python bench/peak_rss.py -m source_events read ...    |    python bench/peak_rss.py bench/raw_loop.py ...
(Linux keeps a process's ru_maxrss across exec, so a child forked from a large parent would report the
parent's size; VmHWM does not.)"""

import atexit
import os
import runpy
import sys


def _report() -> None:
    # VmHWM starts afresh at exec; ru_maxrss keeps the pages the forked child shared with its parent
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_RSS_FILE"], "a") as handle:
        handle.write(f"{peak}\n")


atexit.register(_report)
if sys.argv[1] == "-m":
    sys.argv = [sys.argv[2], *sys.argv[3:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
