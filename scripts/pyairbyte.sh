#!/usr/bin/env bash
# PyAirbyte (`airbyte` 0.71.x) in its own virtualenv (~800 MB, it pins its own versions), then the round
# trip: read the connector into PyAirbyte's DuckDB cache, then an incremental read of only what is new.
#   ./scripts/pyairbyte.sh         (after ./scripts/test.sh has made .venv with the connector)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
[ -x .venv-pyairbyte/bin/python ] || "$PYTHON" -m venv .venv-pyairbyte
.venv-pyairbyte/bin/python -m pip install --quiet --disable-pip-version-check 'airbyte==0.71.*'
exec .venv-pyairbyte/bin/python scripts/pyairbyte_roundtrip.py
