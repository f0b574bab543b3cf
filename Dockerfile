# Airbyte's Python connector convention: the pinned python-connector-base, code under
# /airbyte/integration_code, the package installed with pip, main.py as the entrypoint.
# BASE_IMAGE stays pinned by digest; scripts/image-smoke.sh builds FROM a local stand-in for its tag.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code
COPY setup.py pyproject.toml README.md main.py ./
COPY source_events ./source_events
# the connector runs as uid 1000 ("airbyte" in the base image; created when a base lacks it)
RUN PIP_ROOT_USER_ACTION=ignore pip install --no-cache-dir . \
    && (getent passwd 1000 >/dev/null || useradd --create-home --uid 1000 airbyte)

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-events
LABEL io.airbyte.version=0.4.1

USER 1000
