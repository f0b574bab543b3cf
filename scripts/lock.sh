#!/usr/bin/env bash
# Regenerates constraints.txt, the lock of the whole dependency tree (the runtime and the test extras), one
# file for every supported Python (uv's universal resolution: a version per Python where they differ).
# The Dockerfile and scripts/test.sh install with it, so the image and CI run the versions tested here.
#   ./scripts/lock.sh                          # after a change to setup.py: keeps every pin it can
#   ./scripts/lock.sh --upgrade                # every package to its newest version setup.py allows
#   ./scripts/lock.sh --upgrade-package NAME   # one package
# Then run ./scripts/test.sh (and CI's Python versions: .ci/run) before committing the new lock.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if [ ! -x .venv-lock/bin/uv ] || [ "$(.venv-lock/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv .venv-lock
  .venv-lock/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
# --python-version 3.10: the oldest supported; universal resolution covers every newer one setup.py allows
exec .venv-lock/bin/uv pip compile setup.py --extra tests --universal --python-version 3.10 \
  --custom-compile-command ./scripts/lock.sh --output-file constraints.txt "$@"
