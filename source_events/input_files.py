"""The text of a command's input files (--config, --catalog, --state), read in one place.

The connector reads each input before the CDK does (to name a setting or a file's problem) and the CDK reads it
again. A file that can be read only once, a pipe (`--config <(op read …)`, which keeps a key off the disk, or
/dev/stdin), would be empty the second time: its text is kept in memory for the process instead. A regular file
is read anew each time, as the CDK would.
"""

import os
import stat

_READ_ONCE: dict[str, str] = {}  # path -> the text of a file that is not a regular file


def input_text(path: str) -> str:
    """The file's text (OSError when it cannot be opened, ValueError when it is not UTF-8)."""
    kept = _READ_ONCE.get(path)
    if kept is not None:
        return kept
    with open(path, encoding="utf-8") as file:
        text = file.read()
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            _READ_ONCE[path] = text
    return text
