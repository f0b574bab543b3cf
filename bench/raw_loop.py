"""The baseline: a plain loop over the API (requests.Session, JSON parsing, one protocol line per record),
with no framework. `python bench/raw_loop.py flameup|bem BASE_URL PAGE_SIZE`"""

import json
import sys
import time
from functools import partial

import requests

# compact, like the protocol lines the connector prints
to_json = partial(json.dumps, separators=(",", ":"))


def main(api: str, base: str, page_size: int) -> None:
    session = requests.Session()
    out = sys.stdout
    now = int(time.time() * 1000)
    if api == "flameup":
        session.headers["Authorization"] = "Bearer ws_test_emulator_key"
        offset = 0
        while True:
            body = session.get(
                f"{base}/workspaces/ws_emulator/events", params={"limit": page_size, "offset": offset}
            ).json()
            for event in body["events"]:
                out.write(
                    to_json(
                        {"type": "RECORD", "record": {"stream": "flameup_events", "data": event, "emitted_at": now}}
                    )
                    + "\n"
                )
            offset += len(body["events"])
            if not body["events"] or offset >= body["total"]:
                break
    else:
        session.headers["x-api-key"] = "bem_emulator_key"
        params = {"limit": page_size, "sortOrder": "asc"}
        while True:
            events = session.get(f"{base}/events", params=params).json()["events"]
            for event in events:
                out.write(
                    to_json({"type": "RECORD", "record": {"stream": "bem_events", "data": event, "emitted_at": now}})
                    + "\n"
                )
            if not events:
                break
            params["startingAfter"] = events[-1]["eventID"]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
