"""`spec` is answered without importing the CDK (source_events.cli), and says exactly what the CDK says."""

import json
import subprocess
import sys

from airbyte_cdk.models import AirbyteMessageSerializer
from airbyte_cdk.test.entrypoint_wrapper import _run_command

from source_events import SourceEvents
from source_events.cli import spec_message


def test_the_fast_spec_equals_the_cdks_spec():
    output = _run_command(SourceEvents(), ["spec"])
    [cdk_spec] = output.spec_messages

    assert json.loads(spec_message()) == AirbyteMessageSerializer.dump(cdk_spec)


def test_spec_through_the_cli_imports_neither_the_cdk_nor_requests():
    probe = (
        "import sys, io, contextlib\n"
        "from source_events.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: main(['spec'])\n"
        "print(sorted(m for m in ('airbyte_cdk', 'requests') if m in sys.modules))\n"
        "print(out.getvalue())"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded, message = result.stdout.split("\n", 1)

    assert loaded == "[]"
    assert json.loads(message)["type"] == "SPEC"
