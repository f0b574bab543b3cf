"""Ctrl-C (SIGINT) ends a protocol command at once: exit code 130, no traceback, and stdout in whole lines, so
that the last STATE a read printed is where the next read resumes.

Python's default raises KeyboardInterrupt in the main thread wherever it is: in the middle of writing a line, or
in the CDK's read loop, whose reader threads then keep the process alive until their work ends (minutes).
Instead SIGINT is blocked in every thread, and one thread waits for it: it writes out the whole lines still
buffered and ends the process without waiting for the readers, whose requests nothing can cancel. Every STATE
printed was a checkpoint; the records printed after the last one are read again by the next read.
"""

import os
import signal
import sys
import threading
from collections.abc import Callable

# 128 + SIGINT: what a shell reports for a process that Ctrl-C ended
INTERRUPTED_EXIT_CODE = 130


def end_at_interrupt(write_out: Callable[[], None], note: str) -> None:
    """From now on SIGINT calls `write_out` (which writes out what is buffered for stdout, and keeps anything
    else from writing), prints `note` on stderr and ends the process with INTERRUPTED_EXIT_CODE.

    Call it before any other thread starts: a thread is born with the signal mask of the thread starting it."""
    if not hasattr(signal, "pthread_sigmask"):
        return  # Windows: Python's default
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    threading.Thread(target=_end_at_sigint, args=(write_out, note), name="interrupt", daemon=True).start()


def _end_at_sigint(write_out: Callable[[], None], note: str) -> None:
    signal.sigwait({signal.SIGINT})
    try:
        write_out()
        if sys.__stderr__ is not None:
            sys.__stderr__.write(f"{note}\n")
            sys.__stderr__.flush()
    finally:
        os._exit(INTERRUPTED_EXIT_CODE)  # not sys.exit: it would wait for the reader threads
