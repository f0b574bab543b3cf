"""The console entrypoint, `source-events spec|check|discover|read|catalog|state|demo` (also `python -m source_events`
and `main.py`): it sends each command where it is answered.

`spec`, `check`, `discover` and `read` (the Airbyte protocol) all run through the CDK's entrypoint
(source_events.cdk_run), whatever their options, but for `spec` and for a `check` that succeeds or whose config
our rules refuse (source_events.quick_check: it leaves every other answer to the CDK). What needs no CDK is answered before the
CDK's import, which takes about a second: the usage message, each command's `--help` and its usage errors (options
checked here as the CDK's entrypoint declares them), `catalog` (source_events.catalog_file), `state`
(source_events.state_file) and `demo`
(source_events.demo).
"""

import argparse
import difflib
import sys

from source_events.interruption import INTERRUPTED_EXIT_CODE

# one line per command, for the usage message
COMMANDS = {
    "spec": "print the connector's configuration specification (a SPEC message)",
    "check": "test a config against the APIs: check --config CONFIG",
    "discover": "list the streams a config provides: discover --config CONFIG",
    "read": "replicate records and state: read --config CONFIG --catalog CATALOG [--state STATE]",
    "catalog": "write the catalog read takes, for a config's streams: catalog --config CONFIG -o CATALOG",
    "state": "save a read's last state of each stream for the next read: state READ_OUTPUT -o STATE",
    "demo": "a real sync of both streams against the embedded API emulator, end to end",
}

USAGE = (
    "usage: source-events <command> [options]\n\n"
    "An Airbyte source for the Flameup and bem event APIs. spec, check, discover and read write Airbyte\n"
    "protocol messages to stdout, one JSON object a line.\n\n"
    "commands:\n"
    + "".join(f"  {name:<10}{line}\n" for name, line in COMMANDS.items())
    + "\n`source-events <command> --help` describes a command's options; `source-events --version` prints the\n"
    "connector's version.\n"
)

PROTOCOL_COMMANDS = ("spec", "check", "discover", "read")


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    command = args[0] if args else None
    if command in ("-h", "--help", "help"):
        print(USAGE, end="", flush=True)
        return
    if command in ("-V", "--version"):
        print(f"source-events {_version()}", flush=True)
        return
    if command not in COMMANDS:
        close = difflib.get_close_matches(command or "", list(COMMANDS), n=1)
        problem = "no command given" if command is None else f"unknown command {command!r}"
        problem += f" (did you mean {close[0]}?)" if close else ""
        print(f"source-events: {problem}\n\n{USAGE}", end="", file=sys.stderr, flush=True)
        sys.exit(2)
    if command == "demo":
        from source_events.demo import main as demo

        sys.exit(demo(args[1:]))
    if command == "catalog":
        from source_events.catalog_file import catalog_command

        sys.exit(catalog_command(args[1:]))
    if command == "state":
        from source_events.state_file import state_command

        sys.exit(state_command(args[1:]))
    options = protocol_parser(command).parse_args(args[1:])  # --help and usage errors: answered (and exit) here
    try:
        # a spec, and a check that succeeds or whose config our rules refuse, need no CDK (source_events.quick_check);
        # any other answer is the CDK's
        if command == "spec" and not options.debug:
            from source_events.quick_check import quick_spec

            if quick_spec():
                return
        if command == "check" and not options.debug:
            from source_events.quick_check import quick_check

            if quick_check(options.config):
                return
        from source_events.cdk_run import run
    except KeyboardInterrupt:  # Ctrl-C while the CDK imports (or the quick check waits): nothing was written yet
        sys.exit(INTERRUPTED_EXIT_CODE)
    run(args)


def protocol_parser(command: str) -> argparse.ArgumentParser:
    """The options of a protocol command, as the CDK's entrypoint declares them (AirbyteEntrypoint.parse_args;
    unit_tests/test_entrypoint.py holds them equal), less its `--manifest-path` and `--components-path`, which
    only a manifest-only connector reads."""
    summary = COMMANDS[command].split(":")[0]  # the usage message's line, less the syntax the parser prints
    parser = argparse.ArgumentParser(prog=f"source-events {command}", description=summary)
    parser.add_argument("--debug", action="store_true", help="enables detailed debug logs related to the sync")
    if command == "read":
        parser.add_argument(
            "--state",
            type=str,
            required=False,
            help="path to the json-encoded state file (`source-events state READ_OUTPUT -o STATE` writes it from a "
            "read's output; leave it out for a first sync)",
        )
    if command != "spec":
        required = parser.add_argument_group("required named arguments")
        required.add_argument("--config", type=str, required=True, help="path to the json configuration file")
    if command == "read":
        required.add_argument(
            "--catalog",
            type=str,
            required=True,
            help="path to the catalog used to determine which data to read (`source-events catalog --config CONFIG "
            "-o CATALOG` writes one for the config's streams)",
        )
    return parser


def _version() -> str:
    """The installed distribution's version (setup.py's), without importing anything heavier than the standard
    library."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("airbyte-source-events")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
