"""A configured catalog may only name streams the config provides, and at least one: anything else is refused before any
request, through the CDK's own entrypoint too (SourceEvents.read); integration_tests/test_new_user.py checks
the same through source-events."""

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.catalog import refuse_streams_not_provided
from source_events.config import parse_config
from testkit.builders import BEM, FLAMEUP, catalog, run_read


def test_a_stream_of_an_api_not_configured_is_refused_through_the_cdks_own_entrypoint(config, http):
    output = run_read(config.with_bem().build(), catalog(FLAMEUP, BEM), expect_failure=True)

    assert [e.trace.error.failure_type.value for e in output.errors] == ["config_error"]
    assert output.errors[0].trace.error.message.startswith(
        "The catalog names streams this config does not provide: `flameup_events` (needs a `flameup` section"
    )
    assert not output.records and not output.state_messages and http.request_history == []


@pytest.mark.parametrize("names", [[FLAMEUP, BEM], [FLAMEUP], [BEM]])
def test_the_streams_of_the_configured_apis_pass(config, names):
    refuse_streams_not_provided(names, parse_config(config.with_flameup().with_bem().build()))


def test_a_catalog_of_no_streams_is_refused(config):
    with pytest.raises(AirbyteTracedException) as raised:
        refuse_streams_not_provided([], parse_config(config.with_flameup().with_bem().build()))

    assert raised.value.message.startswith("The catalog lists no stream, so there is nothing to read.")


def test_every_unknown_name_is_listed_once_sorted(config):
    with pytest.raises(AirbyteTracedException) as raised:
        refuse_streams_not_provided(["zz", "bem_event", "zz", FLAMEUP], parse_config(config.with_flameup().build()))

    assert raised.value.message.startswith(
        "The catalog names streams this config does not provide: `bem_event` (no such stream; did you mean "
        "`bem_events`?), `zz` (no such stream). This config provides: `flameup_events`."
    )
