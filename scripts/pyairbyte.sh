#!/usr/bin/env bash
# PyAirbyte (`airbyte` 0.71.x) in its own virtualenv (~800 MB, it pins its own versions), then the round
# trip: read the connector into PyAirbyte's DuckDB cache, then an incremental read of only what is new.
#   ./scripts/pyairbyte.sh         (after ./scripts/test.sh has made .venv with the connector)
# PyAirbyte 0.71 runs on Python 3.10 to 3.12 (the connector itself runs from .venv, on any version it
# supports): the machine's python3 when it is one of those, else python3.12, 3.11 or 3.10 from PATH, or PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
supported() { "$1" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; }
if [ -z "${PYTHON:-}" ]; then
  for candidate in python3 python3.12 python3.11 python3.10; do
    if command -v "$candidate" >/dev/null && supported "$candidate"; then
      PYTHON=$candidate
      break
    fi
  done
  if [ -z "${PYTHON:-}" ]; then
    echo "pyairbyte.sh: PyAirbyte 0.71 needs Python 3.10 to 3.12, and python3 is $(python3 -V 2>&1);" \
      "set PYTHON to such an interpreter" >&2
    exit 2
  fi
fi
[ -x .venv-pyairbyte/bin/python ] || "$PYTHON" -m venv .venv-pyairbyte
.venv-pyairbyte/bin/python -m pip install --quiet --disable-pip-version-check 'airbyte==0.71.*'
exec .venv-pyairbyte/bin/python scripts/pyairbyte_roundtrip.py
