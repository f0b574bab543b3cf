"""metadata.yaml is complete as in Airbyte's registry, loads with the CDK's metadata model, and every
place that states the version or the image agrees: setup.py, metadata.yaml, the Dockerfile's labels, the
CHANGELOG. The lock (constraints.txt) covers setup.py on every supported Python, and the image and the
test command install with it."""

import ast
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import MetadataFile
from airbyte_cdk.test.models.scenario import SCENARIO_SECTIONS
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

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


def _setup_requirements() -> tuple[list[str], dict]:
    """setup.py's install_requires and its tests extra, as written."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup"
    )
    wanted = ("name", "install_requires", "extras_require")
    keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords if keyword.arg in wanted}
    return [*keywords["install_requires"], *keywords["extras_require"]["tests"]], keywords


def _locked(python: str) -> dict[str, Version]:
    """constraints.txt's pins that apply on one Python version (uv's universal lock: markers per version)."""
    environment = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux"}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if not line or line.startswith(("#", " ")):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            (pin,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = Version(pin.version)
    return pins


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13", "3.14"])
def test_the_lock_pins_every_dependency_of_setup_py_within_its_range_on_each_python(python):
    locked = _locked(python)
    requirements, _ = _setup_requirements()
    for line in requirements:
        requirement = Requirement(line)
        assert canonicalize_name(requirement.name) in locked, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)]), line


def test_the_image_the_readme_and_the_test_command_install_with_the_lock():
    assert re.search(r"^COPY [^\n]*\bconstraints\.txt\b", DOCKERFILE, re.MULTILINE)
    assert re.search(r"pip install [^\n]*-c constraints\.txt \.", DOCKERFILE)
    test_command = (ROOT / "scripts" / "test.sh").read_text()
    assert re.search(r"pip install [^\n]*-c constraints\.txt -e '\.\[tests\]'", test_command)
    assert "--output-file constraints.txt" in (ROOT / "scripts" / "lock.sh").read_text()
    run_command = re.search(r"^python3 -m venv \.venv && .*$", (ROOT / "README.md").read_text(), re.MULTILINE)
    assert run_command and "pip install -q -c constraints.txt -e ." in run_command.group(0)
    assert "grep -m1 '^python3 -m venv .venv && ' README.md" in (ROOT / ".ci" / "run").read_text()


def test_pyairbyte_installs_the_package_setup_py_builds():
    pypi = RAW["remoteRegistries"]["pypi"]
    _, keywords = _setup_requirements()

    assert pypi["enabled"] is True
    # Airbyte's convention: airbyte-<the image's name>
    assert pypi["packageName"] == keywords["name"] == "airbyte-" + RAW["dockerRepository"].split("/")[1]


def test_internal_levels_and_test_suites_are_airbytes_values():
    # metadata_service's schema: ql in 0..600 and sl in 0..300, by hundreds
    assert RAW["ab_internal"]["ql"] in (0, 100, 200, 300, 400, 500, 600)
    assert RAW["ab_internal"]["sl"] in (0, 100, 200, 300)
    folders = {"unitTests": "unit_tests", "integrationTests": "integration_tests"}
    suites = [options["suite"] for options in RAW["connectorTestSuitesOptions"]]
    # each suite this metadata names runs here as it is: its folder exists and needs no secret
    assert suites and all((ROOT / folders[suite]).is_dir() for suite in suites)
    assert not any("testSecrets" in options for options in RAW["connectorTestSuitesOptions"])


def test_the_acceptance_test_config_holds_only_what_the_cdks_suite_runs_and_names_files_that_exist():
    text = (ROOT / "acceptance-test-config.yml").read_text()
    config = yaml.safe_load(text)

    assert set(config["acceptance_tests"]) <= set(SCENARIO_SECTIONS)
    paths = [
        value
        for section in config["acceptance_tests"].values()
        for test in section["tests"]
        for key, value in test.items()
        if key.endswith("_path")
    ]
    assert paths and all((ROOT / path).is_file() for path in paths)
    # every file its comments name
    assert all((ROOT / named).is_file() for named in re.findall(r"[\w/]+\.(?:py|yml|json)\b", text))
