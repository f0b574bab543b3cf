"""A faithful stand-in for the Flameup and bem event APIs: their documented behaviour, plus a switch for
every behaviour the docs leave open (see ../shared/api-notes.md). Installed with the package so tests,
benchmarks and the demo share one emulator.

Each API is a plain object whose `list_events(query, headers)` returns an `ApiResponse`; transports (the
unit tests' requests-mock adapter, an HTTP server) only translate requests and responses. One module a job:
`flameup.py`, `bem.py` (each API's logic and its switches), `server.py` (HTTP, routing, control endpoints),
`faults.py` (faults and how they reach the wire), `changes.py` (data added and deleted mid-sync),
`rate_limit.py`, `datasets.py` (seeded data), `ids.py` and `timestamps.py` (its own ID and date-time code:
nothing of the connector's but the manifest is imported here), `sample.py` and `__main__.py` (the CLI).
"""

from source_events.emulator.bem import BemApi, BemBehaviour
from source_events.emulator.flameup import FlameupApi, FlameupBehaviour
from source_events.emulator.responses import ApiResponse

__all__ = ["ApiResponse", "BemApi", "BemBehaviour", "FlameupApi", "FlameupBehaviour"]
