#!/usr/bin/env bash
# The README's test command: a fresh virtualenv with the package and its test extras, then pytest.
#   ./scripts/test.sh            # all tests
#   ./scripts/test.sh -k bem     # any pytest arguments
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[tests]'
.venv/bin/ruff check source_events testkit unit_tests integration_tests scripts bench
.venv/bin/ruff format --check --quiet source_events testkit unit_tests integration_tests scripts bench
.venv/bin/python scripts/generate_schemas.py --check
# Two processes (pytest-xdist; TEST_PROCESSES=N for more), in random order (pytest-randomly prints its seed,
# `--randomly-seed=N` replays an order). pytest exits 5 when it collected no tests: a failure here too.
exec .venv/bin/python -m pytest -n "${TEST_PROCESSES:-2}" "$@"
