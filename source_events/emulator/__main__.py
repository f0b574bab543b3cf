"""Serve the sample emulator until interrupted: both APIs, seeded data, fake credentials.

python -m source_events.emulator --write-config emulator_config.json   # then use that config
python -m source_events.emulator --add-events-every 30                  # new events while it runs
"""

import argparse
import contextlib
import errno
import json
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

from source_events.emulator.sample import (
    BEM_API_KEY,
    FLAMEUP_API_KEY,
    STANDARD_PORT,
    WORKSPACE_ID,
    sample_config,
    sample_server,
)
from source_events.emulator.server import EmulatorServer

ADDED_EACH_TIME = 5  # Flameup and bem events, each, that --add-events-every adds


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m source_events.emulator",
        description=(
            "Serve the Flameup and bem event APIs on 127.0.0.1 with seeded sample data, until Ctrl-C. "
            "It prints the credentials and workspace it accepts and both base URLs; --write-config writes "
            "a connector config that points at it."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=STANDARD_PORT,
        help=f"port to listen on (default: {STANDARD_PORT}); 0 picks a free port, printed at start",
    )
    parser.add_argument(
        "--write-config",
        metavar="PATH",
        help="write a ready-to-use connector config (both APIs, this emulator's URLs) to PATH once listening",
    )
    parser.add_argument(
        "--flameup-events", type=int, default=500, help="Flameup events in the sample data (default: 500)"
    )
    parser.add_argument("--bem-events", type=int, default=500, help="bem events in the sample data (default: 500)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the generated events: the same seed, the same events (default: 1)"
    )
    parser.add_argument(
        "--add-events-every",
        type=_positive_seconds,
        metavar="SECONDS",
        help=(
            f"while serving, add {ADDED_EACH_TIME} new Flameup and {ADDED_EACH_TIME} new bem events every SECONDS, "
            "stamped now (one line on stderr each time), to try an incremental read by hand; "
            "POST /_emulator/append adds events on demand, its JSON body saying how many "
            '(e.g. \'{"flameup": 5, "bem": 5}\')'
        ),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = sample_server(args.port, args.flameup_events, args.bem_events, args.seed)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"emulator: port {args.port} is already in use (another emulator?). Choose another with "
                "--port N, or --port 0 for any free port.",
                file=sys.stderr,
            )
        else:
            print(f"emulator: cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    with server:
        port = int(server.base_url.rsplit(":", 1)[1])
        lines = [
            f"Emulator listening on 127.0.0.1:{port}",
            f"  Flameup base URL  {server.flameup_base_url}",
            f"  Flameup API key   {FLAMEUP_API_KEY}",
            f"  workspace ID      {WORKSPACE_ID}",
            f"  bem base URL      {server.bem_base_url}",
            f"  bem API key       {BEM_API_KEY}",
            f"  sample data       {len(server.flameup.events):,} Flameup and {len(server.bem.events):,} bem events "
            f"(seed {args.seed})",
        ]
        if args.write_config:
            path = Path(args.write_config)
            temporary = path.with_name(path.name + ".tmp")
            try:
                temporary.write_text(json.dumps(sample_config(server), indent=2) + "\n")
                temporary.replace(path)  # whoever waits for the file never reads half of it
            except OSError as error:
                print(f"emulator: cannot write the config to {path}: {error.strerror or error}", file=sys.stderr)
                return 1
            lines.append(f"  connector config  {path} (source-events check --config {path})")
        if args.add_events_every:
            lines.append(
                f"  new events        {ADDED_EACH_TIME} Flameup and {ADDED_EACH_TIME} bem every {args.add_events_every:g} s"
            )
        lines.append("Serving until Ctrl-C.")
        print("\n".join(lines), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            _serve(server, args.add_events_every)
    return 0


def _serve(server: EmulatorServer, add_every: float | None) -> None:
    """Wait for Ctrl-C; meanwhile add events every `add_every` seconds, one stderr line each time (stdout
    carries only the start-up lines, which scripts read)."""
    never = threading.Event()
    if add_every is None:
        never.wait()
        return
    batch = 0
    while not never.wait(add_every):
        batch += 1
        added = server.append_new_events(ADDED_EACH_TIME, ADDED_EACH_TIME, seed=batch)
        now = datetime.now(timezone.utc).strftime("%H:%M:%S")
        truth = server.ground_truth()
        print(
            f"emulator: {now} added {len(added['flameup_events'])} Flameup and {len(added['bem_events'])} bem "
            f"events ({len(truth['flameup_events'])} and {len(truth['bem_events'])} in all)",
            file=sys.stderr,
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
