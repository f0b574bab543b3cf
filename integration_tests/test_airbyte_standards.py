"""The CDK's standard connector tests (spec, check, discover, basic read), driven by
acceptance-test-config.yml against the emulator.

The suite's `image_tests` (build the Docker image, run it) need a Docker engine; pyproject.toml
deselects them here, and the image is built and smoke-tested by the image script instead.
"""

from airbyte_cdk.test.models.scenario import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import SourceTestSuiteBase

from source_events import SourceEvents
from testkit.emulator import pointed_at_session_emulator


class TestAirbyteStandardTests(SourceTestSuiteBase):
    """Scenarios come from acceptance-test-config.yml; their configs name the emulator by a placeholder,
    replaced here by the session emulator's ephemeral port."""

    connector = SourceEvents

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        root = cls.get_connector_root_dir()
        return [
            scenario.model_copy(
                update={
                    "config_dict": pointed_at_session_emulator(
                        scenario.get_config_dict(connector_root=root, empty_if_missing=True)
                    )
                }
            )
            for scenario in super().get_scenarios()
        ]

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourceEvents:
        # a declarative source builds its streams from the config it was created with
        config = (
            scenario.get_config_dict(connector_root=cls.get_connector_root_dir(), empty_if_missing=True)
            if scenario
            else None
        )
        return SourceEvents(config=config)
