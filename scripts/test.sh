#!/usr/bin/env bash
# The README's test command: a virtualenv with the package and its test extras at the locked versions
# (constraints.txt), then ruff, vermin, the schema check and pytest.
#   ./scripts/test.sh            # all tests, with the machine's python3, in .venv
#   ./scripts/test.sh -k bem     # any pytest arguments
#   PYTHON=~/.pyenv/versions/3.10.13/bin/python ./scripts/test.sh    # another interpreter, in .venv-py310
# One virtualenv per interpreter: .venv for the default python3; with PYTHON set, .venv-pyXY for its
# version X.Y, unless VENV names one. A virtualenv made by another Python version is refused, not reused.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VENV:-}" ] && [ -n "${PYTHON:-}" ]; then
  VENV=.venv-py$("$PYTHON" -c 'import sys; print("%d%d" % sys.version_info[:2])')
fi
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
WANT=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
HAVE=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$HAVE" != "$WANT" ]; then
  echo "test.sh: $VENV has Python $HAVE, but $PYTHON is $WANT: remove $VENV, or set VENV to another folder" >&2
  exit 2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
# constraints.txt: the versions the lock pins (scripts/lock.sh), the Dockerfile's too
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[tests]'
echo "test.sh: ruff (lint, then format)"
"$VENV/bin/ruff" check source_events testkit unit_tests integration_tests scripts bench
"$VENV/bin/ruff" format --check --quiet source_events testkit unit_tests integration_tests scripts bench
# CI runs the whole suite on the newest Python (.ci/run): nothing may need a Python newer than the oldest
# setup.py supports (datetime.UTC, tomllib, typing.Self: 3.11), which vermin reads off the code
OLDEST_SUPPORTED=$(sed -n 's/.*python_requires=">=\([0-9.]*\),.*/\1/p' setup.py)
echo "test.sh: vermin (nothing newer than Python $OLDEST_SUPPORTED, setup.py's oldest)"
"$VENV/bin/vermin" -q --no-tips --violations --eval-annotations -t="$OLDEST_SUPPORTED-" \
  source_events testkit unit_tests integration_tests scripts bench
echo "test.sh: the generated JSON schemas match the documented bodies"
"$VENV/bin/python" scripts/generate_schemas.py --check
if [ $# -eq 0 ]; then
  echo "test.sh: pytest on ${TEST_PROCESSES:-2} processes (the whole suite: about 5-7 minutes on 2 idle cores, longer on a busy machine)"
else
  echo "test.sh: pytest on ${TEST_PROCESSES:-2} processes: $*"
fi
# Two processes (pytest-xdist; TEST_PROCESSES=N for more), in random order (pytest-randomly prints its seed,
# `--randomly-seed=N` replays an order). pytest exits 5 when it collected no tests: a failure here too.
exec "$VENV/bin/python" -m pytest -n "${TEST_PROCESSES:-2}" "$@"
