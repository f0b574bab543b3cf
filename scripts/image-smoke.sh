#!/usr/bin/env bash
# Build the connector's Docker image with podman (these machines have no Docker engine) and smoke-test it:
# spec, then check, discover, a full and an incremental read against the emulator on the host.
#   ./scripts/image-smoke.sh            (after ./scripts/test.sh has made .venv)
# The Dockerfile is used unchanged: its BASE_IMAGE is pinned by digest, which a local image cannot
# carry, so the build passes the same name without the digest, which podman-setup.sh tags locally.
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP=${PODMAN_SETUP:-../shared/tools/podman-setup.sh}
BASE_BY_TAG=$(sed -n 's/^ARG BASE_IMAGE=\([^@]*\)@sha256:.*/\1/p' Dockerfile)
IMAGE=airbyte/source-events:dev

.venv/bin/hadolint Dockerfile
export BASE_ALIASES="$BASE_BY_TAG"
# shellcheck source=/dev/null
source "$SETUP"
podman build --quiet --pull=never --network=host --build-arg "BASE_IMAGE=$BASE_BY_TAG" -t "$IMAGE" . >/dev/null
exec .venv/bin/python scripts/image_smoke.py "$IMAGE"
