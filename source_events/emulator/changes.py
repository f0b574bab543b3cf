"""Data that changes while a sync pages: events added and deleted at chosen requests.

    server.changes.append(Mutation(at_request=5, bem_events=[...]))           # these events appear
    server.changes.append(Addition(at_request=3, api="bem", count=4, id_clock_offset=10))
    server.changes.append(Deletion(at_request=2, api="flameup", where="last_served", repeat_every=3, times=4))
    server.deleted_keys()  # {"flameup_events": {...}, "bem_events": {...}}

A change is applied before the request it names is answered. `Mutation` counts every request (across both
APIs); `Addition` and `Deletion` count the requests of their `api` on its own, as `Fault(api=...)` does, so
a schedule does not depend on how two concurrent streams interleave. A change added after its request
number has passed fires at the next request it counts.
"""

import random
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from source_events.emulator.bem import BemApi
from source_events.emulator.datasets import bem_event_at, flameup_event_at
from source_events.emulator.flameup import FlameupApi
from source_events.emulator.ids import ksuid_seconds
from source_events.emulator.responses import ApiResponse
from source_events.manifest import primary_keys

ApiName = Literal["flameup", "bem"]
STREAMS = {"flameup": "flameup_events", "bem": "bem_events"}
KEYS = {api: primary_keys()[stream] for api, stream in STREAMS.items()}  # each API's event ID field


class Mutation(BaseModel):
    """Before request `at_request` (counted across both APIs) is answered, these events appear (new ones, or
    late ones with an earlier timestamp or an ID of an earlier second)."""

    at_request: int = Field(ge=1)
    flameup_events: list[dict[str, Any]] = []
    bem_events: list[dict[str, Any]] = []


class _Repeated(BaseModel):
    """A change made before `api`'s request `at_request` is answered, then every `repeat_every` requests of
    that API, `times` times in all."""

    at_request: int = Field(ge=1)
    api: ApiName
    count: int = Field(1, ge=1)
    repeat_every: int | None = Field(None, ge=1)
    times: int = Field(1, ge=1)
    seed: int = 0
    _fired: int = PrivateAttr(0)
    _rng: random.Random | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _repeats_need_an_interval(self) -> "_Repeated":
        if self.times > 1 and self.repeat_every is None:
            raise ValueError("times > 1 needs repeat_every: the number of requests between two changes")
        return self

    def due(self, number_of_api: int) -> bool:
        return self._fired < self.times and number_of_api >= self.at_request + self._fired * (self.repeat_every or 0)

    def fire(self) -> random.Random:
        """Count one firing; the change's own random numbers, seeded, the same run after run."""
        self._fired += 1
        if self._rng is None:
            self._rng = random.Random(f"{type(self).__name__} {self.api} {self.at_request} {self.seed}")
        return self._rng

    @property
    def done(self) -> bool:
        return self._fired >= self.times


class Addition(_Repeated):
    """`count` new events created at the API's clock's now (`api.clock`). bem: their IDs are minted by a
    clock `id_clock_offset` seconds ahead of the one that orders creation (behind if negative), as when the
    servers' clocks disagree. Flameup: `timestamp` = `created_at` = now."""

    id_clock_offset: int = 0


class Deletion(_Repeated):
    """`count` events deleted, chosen by `where`:
    - "random": at random (seeded) from the whole data set;
    - "oldest": the oldest, as retention deletes them (Flameup: by the field `since`/`until` compare; bem:
      by ID second, then ID, among the events listed now);
    - "last_served": the last events of the API's previous 200 answer, where a cursor resumes from (bem: the
      last IDs of the page just served; Flameup: the last events of the page just served)."""

    where: Literal["random", "oldest", "last_served"]


Change = Mutation | Addition | Deletion


class DataChanges:
    """Applies the scheduled changes to the APIs' data, and keeps what they added and deleted."""

    def __init__(self) -> None:
        self.added: dict[str, set[str]] = {stream: set() for stream in STREAMS.values()}
        self.deleted: dict[str, set[str]] = {stream: set() for stream in STREAMS.values()}
        self._last_served: dict[str, list[str]] = {api: [] for api in STREAMS}

    def apply_due(
        self, pending: list[Change], number: int, api: str | None, number_of_api: int, apis: dict[str, Any]
    ) -> None:
        """Apply every change due before request `number` (the `number_of_api`-th of `api`) is answered."""
        for change in list(pending):
            if isinstance(change, Mutation):
                if change.at_request <= number:
                    for name, events in (("flameup", change.flameup_events), ("bem", change.bem_events)):
                        if apis[name] is not None and events:
                            self.add(name, apis[name], events)
                    _drop(pending, change)
                continue
            if change.api != api or apis[api] is None or not change.due(number_of_api):
                continue
            rng = change.fire()
            if isinstance(change, Addition):
                self.add_now(api, apis[api], change.count, rng, change.id_clock_offset)
            else:
                self._delete(change, apis[api], rng)
            if change.done:
                _drop(pending, change)

    def served(self, api: str, answer: ApiResponse) -> None:
        """Remember the events of an API's 200 answer: where "last_served" deletes."""
        if answer.status == 200 and isinstance(answer.body, dict):
            self._last_served[api] = [e[KEYS[api]] for e in answer.body.get("events") or []]

    def add(self, api: str, target: FlameupApi | BemApi, events: list[dict[str, Any]]) -> list[str]:
        target.events.extend(events)
        target.version += 1
        keys = [e[KEYS[api]] for e in events]
        self.added[STREAMS[api]].update(keys)
        return keys

    def add_now(
        self, api: str, target: FlameupApi | BemApi, count: int, rng: random.Random, id_clock_offset: int = 0
    ) -> list[str]:
        """`count` events created at the API's clock's now (bem: IDs minted `id_clock_offset` seconds ahead)."""
        now = target.clock()
        if isinstance(target, FlameupApi):
            moment = datetime.fromtimestamp(now, timezone.utc)
            events = [flameup_event_at(moment, rng, target.workspace_id) for _ in range(count)]
        else:
            rank = len(target.events)
            events = [bem_event_at(now, rng, rank + i, id_clock_offset) for i in range(count)]
        return self.add(api, target, events)

    def _delete(self, deletion: Deletion, target: FlameupApi | BemApi, rng: random.Random) -> None:
        key = KEYS[deletion.api]
        if deletion.where == "random":
            chosen = rng.sample(target.events, min(deletion.count, len(target.events)))
        elif deletion.where == "oldest":
            chosen = _oldest(target, deletion.count)
        else:
            present = {e[key] for e in target.events}
            chosen = [{key: k} for k in self._last_served[deletion.api][-deletion.count :] if k in present]
        doomed = {e[key] for e in chosen}
        if doomed:
            target.events[:] = [e for e in target.events if e[key] not in doomed]
            target.version += 1
            self.deleted[STREAMS[deletion.api]].update(doomed)


def _drop(pending: list[Change], change: Change) -> None:
    """Remove this very change (list.remove would take the first equal one: a twin with its own progress)."""
    pending[:] = [c for c in pending if c is not change]


def _oldest(target: FlameupApi | BemApi, count: int) -> list[dict[str, Any]]:
    if isinstance(target, FlameupApi):
        return target.oldest_first()[:count]
    return sorted(target.listed_events(), key=lambda e: (ksuid_seconds(e["eventID"]) or 0, e["eventID"]))[:count]
