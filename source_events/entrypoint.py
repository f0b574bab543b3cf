"""The console entrypoint, `source-events spec|check|discover|read|state|demo` (also `python -m source_events`
and `main.py`): it sends each command where it is answered.

Answered without the CDK or the HTTP stack, whose import takes seconds: the usage message (`source-events`,
`--help`), `spec` and `discover` with a valid config (source_events.answers), `state`
(source_events.state_file) and `demo` (source_events.demo). Everything else goes through the CDK
(source_events.cdk_run), including a `discover` whose config is invalid, so that the error is reported as
always, and each protocol command's `--help`.
"""

import sys

# one line per command, for the usage message
COMMANDS = {
    "spec": "print the connector's configuration specification (a SPEC message)",
    "check": "test a config against the APIs: check --config CONFIG",
    "discover": "list the streams a config provides: discover --config CONFIG",
    "read": "replicate records and state: read --config CONFIG --catalog CATALOG [--state STATE]",
    "state": "save a read's last state of each stream for the next read: state READ_OUTPUT -o STATE",
    "demo": "a real sync of both streams against the embedded API emulator, end to end",
}

USAGE = (
    "usage: source-events <command> [options]\n\n"
    "An Airbyte source for the Flameup and bem event APIs. spec, check, discover and read write Airbyte\n"
    "protocol messages to stdout, one JSON object a line.\n\n"
    "commands:\n"
    + "".join(f"  {name:<10}{line}\n" for name, line in COMMANDS.items())
    + "\n`source-events <command> --help` describes a command's options.\n"
)


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else None
    if command in ("-h", "--help", "help"):
        print(USAGE, end="", flush=True)
        return
    if command not in COMMANDS:
        problem = "no command given" if command is None else f"unknown command {command!r}"
        print(f"source-events: {problem}\n\n{USAGE}", end="", file=sys.stderr, flush=True)
        sys.exit(2)
    if command == "demo":
        from source_events.demo import main as demo

        sys.exit(demo(args[1:]))
    if command == "state":
        from source_events.state_file import state_command

        sys.exit(state_command(args[1:]))
    if args == ["spec"]:
        from source_events.answers import spec_message

        print(spec_message(), flush=True)
        return
    if len(args) == 3 and args[0] == "discover" and args[1] == "--config":
        from source_events.answers import catalog_message

        catalog = catalog_message(args[2])
        if catalog:
            print(catalog, flush=True)
            return
    from source_events.cdk_run import run

    sys.argv[0] = "source-events"  # the CDK's argparse names the program after it (`python -m`: __main__.py)
    run(args)
