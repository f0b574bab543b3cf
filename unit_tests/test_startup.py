"""`spec` and `discover` are answered without importing the CDK (source_events.answers), and say exactly what the
CDK says; a `discover` with a bad config still gets the CDK's actionable error."""

import json
import subprocess
import sys

import pytest
from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.test.entrypoint_wrapper import _run_command

from source_events import SourceEvents
from source_events.answers import catalog_message, spec_message
from testkit.builders import run_discover


def test_the_fast_spec_equals_the_cdks_spec():
    output = _run_command(SourceEvents(), ["spec"])
    [cdk_spec] = output.spec_messages

    assert json.loads(spec_message()) == AirbyteMessageSerializer.dump(cdk_spec)


def test_spec_through_the_cli_imports_neither_the_cdk_nor_requests():
    probe = (
        "import sys, io, contextlib\n"
        "from source_events.entrypoint import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: main(['spec'])\n"
        "print(sorted(m for m in ('airbyte_cdk', 'requests') if m in sys.modules))\n"
        "print(out.getvalue())"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded, message = result.stdout.split("\n", 1)

    assert loaded == "[]"
    assert json.loads(message)["type"] == "SPEC"


@pytest.mark.parametrize("apis", [("flameup",), ("bem",), ("flameup", "bem")])
def test_the_fast_catalog_equals_the_cdks_catalog(config, tmp_path, apis):
    builder = config
    for api in apis:
        builder = builder.with_flameup() if api == "flameup" else builder.with_bem()
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(builder.build()))

    cdk_catalog = run_discover(builder.build()).catalog

    assert json.loads(catalog_message(str(config_file))) == AirbyteMessageSerializer.dump(cdk_catalog)


def test_discover_with_a_bad_config_is_left_to_the_cdk(config, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.with_bem(page_size=500).build()))

    assert catalog_message(str(config_file)) is None


def test_discover_through_the_cli_imports_neither_the_cdk_nor_requests(config, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config.with_flameup().with_bem().build()))
    probe = (
        "import sys, io, contextlib\n"
        "from source_events.entrypoint import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()) as out: main(['discover', '--config', {str(config_file)!r}])\n"
        "print(sorted(m for m in ('airbyte_cdk', 'requests') if m in sys.modules))\n"
        "print(out.getvalue())"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded, message = result.stdout.split("\n", 1)

    assert loaded == "[]"
    assert len(json.loads(message)["catalog"]["streams"]) == 2
