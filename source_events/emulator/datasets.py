"""Deterministic, realistic event data for both APIs, typed with pydantic.

Flameup: `evt_` + 32 hex IDs, UUID person IDs, timestamps with and without fractional seconds (3, 6 or
9 digits), bursts sharing one timestamp, events exactly on day boundaries, nested `properties`; on request,
a share of events sent by offline clients (`timestamp` minutes to days before `created_at`).
bem: KSUID-style IDs ordered only to the second, bursts of events created in one second, every event
type, nested `transformedContent`; on request, IDs minted by clocks off the one that orders creation.
"""

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from source_events.emulator.bem import CREATED_KEY
from source_events.emulator.ids import flameup_event_id, ksuid
from source_events.emulator.timestamps import parse_date_time
from source_events.manifest import bem_event_types

EVENT_NAMES = ["page_view", "signup", "purchase", "feature_used", "logout"]
BEM_EVENT_TYPES = bem_event_types()  # the documented ones, as the spec's `bem.event_types` filter lists them


class FlameupEvent(BaseModel):
    id: str
    workspace_id: str
    person_id: str
    event: str
    properties: dict[str, Any]
    timestamp: str
    created_at: str


class BemEvent(BaseModel):
    eventID: str
    referenceID: str
    inboundEmail: dict[str, str]
    metadata: dict[str, float]
    eventType: str
    functionCallID: str
    functionID: str
    functionName: str
    functionVersionNum: int
    callID: str
    workflowID: str
    workflowName: str
    workflowVersionNum: int
    transformationID: str
    transformedContent: dict[str, Any]
    invalidProperties: list[str]
    itemOffset: int
    itemCount: int


def format_flameup_time(moment: datetime, digits: int) -> str:
    """`digits` fractional digits (0 = none); 9 digits pad the microseconds like a nanosecond clock."""
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    fraction = f"{moment.microsecond:06d}" + "000"
    return f"{base}.{fraction[:digits]}Z"


def flameup_events(
    count: int,
    start: datetime,
    end: datetime,
    workspace_id: str,
    seed: int = 1,
    people: int = 25,
    offline_share: float = 0.0,
) -> list[dict[str, Any]]:
    """`count` events received between `start` and `end`. Each `created_at` is 0 to 5 s after its `timestamp`,
    but for `offline_share` of them (0..1, seeded): sent by offline clients, their `timestamp` is 1 minute to
    3 days before `created_at`, so it can lie before `start`. The same seed gives the same events whatever
    the share; a share only moves some timestamps back."""
    if not 0 <= offline_share <= 1:
        raise ValueError(f"offline_share must be between 0 and 1, not {offline_share}")
    rng = random.Random(seed)
    offline = random.Random(f"offline clients {seed}")
    person_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(people)]
    span = (end - start).total_seconds()
    day_boundaries = _midnights(start, end)
    events: list[dict[str, Any]] = []
    while len(events) < count:
        shape = rng.random()
        if shape < 0.08 and day_boundaries:
            # on midnight, or a hair either side of it: where windows and compare precision meet
            nudge = timedelta(microseconds=rng.choice([0, 0, 1, -1, 250_000, -250_000, 999_999]))
            moment, burst = rng.choice(day_boundaries) + nudge, rng.randint(1, 3)
        elif shape < 0.15:
            moment, burst = start + timedelta(seconds=rng.uniform(0, span)), rng.randint(2, 8)  # shared timestamp
        else:
            moment, burst = start + timedelta(seconds=rng.uniform(0, span)), 1
        digits = rng.choice([0, 0, 3, 6, 9])
        stamp = format_flameup_time(moment, digits)
        for _ in range(min(burst, count - len(events))):
            event = FlameupEvent(
                id=flameup_event_id(rng),
                workspace_id=workspace_id,
                person_id=rng.choice(person_ids),
                event=rng.choice(EVENT_NAMES),
                properties={
                    "path": rng.choice(["/", "/pricing", "/docs", "/signup"]),
                    "utm": {"source": rng.choice(["ads", "newsletter", None]), "campaign_id": rng.randint(1, 9)},
                    "values": [rng.randint(0, 100) for _ in range(rng.randint(0, 3))],
                },
                timestamp=stamp,
                created_at=format_flameup_time(moment + timedelta(seconds=rng.uniform(0, 5)), 6),
            ).model_dump()
            if offline_share and offline.random() < offline_share:
                # log-uniform from a minute to three days: most offline clients come back soon
                delay = timedelta(seconds=60 * (3 * 24 * 60) ** offline.random())
                event["timestamp"] = format_flameup_time(parse_date_time(event["created_at"]) - delay, digits)
            events.append(event)
    return events


def _midnights(start: datetime, end: datetime) -> list[datetime]:
    day = (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    midnights = []
    while day < end:
        midnights.append(day)
        day += timedelta(days=1)
    return midnights


def bem_events(
    count: int, start: datetime, end: datetime, seed: int = 2, id_clock_skew: int = 0, id_clock_offset: int = 0
) -> list[dict[str, Any]]:
    """Events in creation order, each carrying the emulator-only creation key (its second, its rank). IDs
    are minted by other servers' clocks: `id_clock_offset` seconds ahead of the clock that orders creation
    (behind if negative) for every event, and with `id_clock_skew`, each one up to that many seconds more
    either way, at random. The creation moment is what `sort_by="created"` and the listing delay read."""
    rng = random.Random(seed)
    first, last = int(start.timestamp()), int(end.timestamp())
    bursts = []  # several events in one second (their IDs sort in random order), spread over the window
    while sum(bursts) < count:
        bursts.append(min(rng.choice([1, 1, 1, 2, 4, 12]), count - sum(bursts)))
    seconds = sorted(rng.randint(first, last) for _ in bursts)
    events: list[dict[str, Any]] = []
    for second, burst in zip(seconds, bursts, strict=True):
        for _ in range(burst):
            event = bem_event_at(second, rng, len(events), id_clock_offset)
            if id_clock_skew:
                skew = rng.randint(-id_clock_skew, id_clock_skew)
                event["eventID"] = ksuid(second + id_clock_offset + skew, rng)
            events.append(event)
    return events


def bem_event_at(created: float, rng: random.Random, rank: int, id_clock_offset: int = 0) -> dict[str, Any]:
    """One event created at the unix moment `created`, the `rank`-th created; its IDs minted by a clock
    `id_clock_offset` seconds ahead (behind if negative)."""
    id_second = int(created) + id_clock_offset
    function = rng.choice(["invoice-extractor", "email-router", "receipt-splitter"])
    item_count = rng.randint(1, 5)
    event = BemEvent(
        eventID=ksuid(id_second, rng),
        referenceID=f"ref-{rng.randint(1000, 9999)}",
        inboundEmail={
            "to": "inbox@example.com",
            "from": f"sender{rng.randint(1, 50)}@example.org",
            "subject": "Invoice",
        },
        metadata={"durationFunctionToEventSeconds": round(rng.uniform(0.05, 9.0), 3)},
        eventType=rng.choice(BEM_EVENT_TYPES),
        functionCallID=ksuid(id_second, rng, prefix="fc_"),
        functionID=f"f_{function}",
        functionName=function,
        functionVersionNum=rng.randint(1, 4),
        callID=ksuid(id_second, rng, prefix="c_"),
        workflowID="wf_main",
        workflowName="main",
        workflowVersionNum=1,
        transformationID=ksuid(id_second, rng, prefix="tr_"),
        transformedContent={
            "invoice": {"total": round(rng.uniform(1, 900), 2), "lines": [{"sku": "A1", "qty": rng.randint(1, 3)}]}
        },
        invalidProperties=rng.choice([[], [], ["invoice.dueDate"]]),
        itemOffset=rng.randint(0, item_count - 1),
        itemCount=item_count,
    ).model_dump()
    event[CREATED_KEY] = (created, rank)
    return event


def flameup_event_at(moment: datetime, rng: random.Random, workspace_id: str) -> dict[str, Any]:
    """One event that happened and was received at `moment` (as an online client sends it)."""
    stamp = format_flameup_time(moment, 6)
    return FlameupEvent(
        id=flameup_event_id(rng),
        workspace_id=workspace_id,
        person_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        event=rng.choice(EVENT_NAMES),
        properties={"path": rng.choice(["/", "/pricing", "/docs", "/signup"])},
        timestamp=stamp,
        created_at=stamp,
    ).model_dump()


def default_window(now: datetime | None = None, days: int = 45):
    now = now or datetime.now(timezone.utc)
    return now - timedelta(days=days), now - timedelta(minutes=1)
