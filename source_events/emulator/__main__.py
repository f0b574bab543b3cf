"""Serve the sample emulator until interrupted: `python -m source_events.emulator [--port 47651]`."""

import argparse
import time

from source_events.emulator.sample import STANDARD_PORT, sample_server

parser = argparse.ArgumentParser(prog="python -m source_events.emulator", description=__doc__)
parser.add_argument("--port", type=int, default=STANDARD_PORT)
parser.add_argument("--flameup-events", type=int, default=500)
parser.add_argument("--bem-events", type=int, default=500)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()
with sample_server(args.port, args.flameup_events, args.bem_events, args.seed) as server:
    print(f"Flameup: {server.flameup_base_url}  bem: {server.bem_base_url}  (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
