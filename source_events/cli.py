"""The console entrypoint, `source-events spec|check|discover|read|demo`.

`spec` is answered from manifest.yaml alone: its answer needs neither the CDK nor the HTTP stack, and
importing them takes ~2 s. unit_tests/test_startup.py checks that the answer equals the CDK's. Every
other command goes through the CDK (source_events.run).
"""

import json
import sys
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    if args == ["spec"]:
        print(spec_message(), flush=True)
        return
    from source_events.run import run

    run(args)


def spec_message() -> str:
    """The SPEC message, as the CDK writes it for this manifest."""
    import yaml

    spec = yaml.load(MANIFEST_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["spec"]
    body = {
        "connectionSpecification": spec["connection_specification"],
        "documentationUrl": spec["documentation_url"],
        "supportsDBT": False,
        "supportsNormalization": False,
    }
    return json.dumps({"type": "SPEC", "spec": body}, separators=(",", ":"), ensure_ascii=False)
