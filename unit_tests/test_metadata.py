"""metadata.yaml is complete as in Airbyte's registry, loads with the CDK's metadata model, and every
place that states the version or the image agrees: setup.py, metadata.yaml, the Dockerfile's labels, the
CHANGELOG."""

import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from airbyte_cdk.models.connector_metadata import MetadataFile

from source_events.manifest import declared_streams, manifest, setting

ROOT = Path(__file__).resolve().parent.parent
METADATA = MetadataFile.from_file(ROOT / "metadata.yaml").data
RAW = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _setup_version() -> str:
    return re.search(r'^VERSION = "([^"]+)"', (ROOT / "setup.py").read_text(), re.MULTILINE).group(1)


def _label(name: str) -> str:
    return re.search(rf"^LABEL {re.escape(name)}=(\S+)$", DOCKERFILE, re.MULTILINE).group(1)


def test_the_version_agrees_across_setup_metadata_dockerfile_and_changelog():
    version = _setup_version()
    latest_changelog = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE).group(1)
    assert METADATA.dockerImageTag == version
    assert _label("io.airbyte.version") == version
    assert latest_changelog == version


def test_the_image_name_agrees_across_metadata_and_dockerfile():
    assert _label("io.airbyte.name") == METADATA.dockerRepository == "airbyte/source-events"


def test_the_base_image_is_pinned_by_digest_and_is_the_dockerfiles_default():
    base = METADATA.connectorBuildOptions.baseImage
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base)
    assert f"ARG BASE_IMAGE={base}" in DOCKERFILE


def test_registry_fields_are_complete():
    uuid.UUID(RAW["definitionId"])
    assert RAW["connectorType"] == "source" and RAW["connectorSubtype"] == "api"
    assert RAW["license"] and RAW["releaseStage"] and RAW["supportLevel"]
    assert {"language:python", "cdk:low-code"} <= set(METADATA.tags)
    assert (ROOT / RAW["icon"]).read_text().lstrip().startswith("<svg")
    assert RAW["documentationUrl"] == manifest()["spec"]["documentation_url"]


def test_allowed_hosts_are_the_default_api_hosts_of_the_manifest():
    defaults = [setting(api, "base_url")["default"] for api in ("flameup", "bem")]
    assert (
        {urlsplit(url).hostname for url in defaults}
        == set(RAW["allowedHosts"]["hosts"])
        == {"api.flameup.ai", "api.bem.ai"}
    )


def test_suggested_streams_are_the_manifests_streams():
    declared = [stream["name"] for stream in declared_streams()]
    assert METADATA.suggestedStreams.streams == declared
