# Airbyte's Python connector convention: the pinned python-connector-base (4.1.0: Python 3.13), code under
# /airbyte/integration_code, the package installed with pip at the versions constraints.txt locks
# (scripts/lock.sh), main.py as the entrypoint.
# BASE_IMAGE stays pinned by digest; scripts/image-smoke.sh builds FROM a local stand-in for its tag.
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.1.0@sha256:1d1aa21d34e851df4e8a87b391c27724c06e2597608e7161f4d167be853bd7b6
FROM ${BASE_IMAGE}

WORKDIR /airbyte/integration_code
COPY setup.py pyproject.toml README.md main.py constraints.txt ./
COPY source_events ./source_events
# the connector runs as uid 1000 ("airbyte" in the base image; created when a base lacks it)
RUN PIP_ROOT_USER_ACTION=ignore pip install --no-cache-dir -c constraints.txt . \
    && (getent passwd 1000 >/dev/null || useradd --create-home --uid 1000 airbyte)

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-events
LABEL io.airbyte.version=0.5.20

USER 1000
