"""bem `GET /events`: x-api-key auth, startingAfter/endingBefore cursors, limit 1..100, CSV-array filters."""

import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from source_events.emulator.ids import ksuid_seconds
from source_events.emulator.responses import ApiResponse, Query, RecentAnswers, first

# query parameter -> event field, for the CSV-array filters
CSV_FILTERS = {
    "eventIDs": "eventID",
    "callIDs": "callID",
    "eventTypes": "eventType",
    "functionIDs": "functionID",
    "functionNames": "functionName",
    "referenceIDs": "referenceID",
}
LISTINGS_KEPT = 8  # readers and probes ask for both sort orders in turn
# emulator-only, never served: (creation moment in unix seconds, creation counter). The moment orders the
# "sorted by creation time" readings (the second: its floor) and says when a late commit becomes listable.
CREATED_KEY = "_created"

# "per_request": drawn anew for each request (seeded by the request and how many times it was asked before), as
# `ORDER BY created_second` without a tie-breaker gives in SQL databases
TieOrder = Literal["id", "id_reversed", "insertion", "insertion_reversed", "per_request"]


class BemBehaviour(BaseModel, frozen=True):
    """The undocumented behaviours, one switch each (frozen: replaced, never changed, and part of cache keys)."""

    # what the listing is sorted by: the whole ID, the creation order, or only the creation second, whose
    # ties each direction breaks its own way (`asc_ties`, `desc_ties`: by ID or by insertion, either way up)
    sort_by: Literal["id", "created", "second"] = "id"
    asc_ties: TieOrder = "id"
    desc_ties: TieOrder = "id_reversed"
    honours_sort_order: bool = True  # False: `sortOrder` is ignored, every listing is oldest first
    # how a `startingAfter`/`endingBefore` naming no listed event is answered: a 400 (Stripe-style), an
    # empty page, the listing from its start, or a 500 (a lookup that fails inside the API)
    unknown_cursor: Literal["reject", "empty", "from_start", "server_error"] = "reject"
    # events whose ID second is older than this many seconds before now are expired: no longer listed
    retention_seconds: int | None = Field(None, ge=0)
    # late commits: an event is listed only once the clock has passed its creation moment plus this many
    # seconds, so it can appear behind IDs already listed
    listing_delay_seconds: float = Field(0, ge=0)
    # False: the `eventIDs` filter is ignored (an unknown parameter, as for an API version without it): the answer
    # is the listing as if it had not been sent
    honours_event_ids: bool = True
    # how `startingAfter` is read: after the event named (as documented), from it (the event itself first), not at
    # all (every page starts at the listing's start), or after the event's creation second ("after_second": every
    # event of a later second oldest first, of an earlier one newest first; a keyset on a creation time kept to the
    # second, which skips the rest of the named event's second)
    starting_after: Literal["exclusive", "inclusive", "ignored", "after_second"] = "exclusive"


class BemApi:
    def __init__(
        self,
        api_key: str,
        events: list[dict[str, Any]],
        behaviour: BemBehaviour | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_key = api_key
        self.events = events
        self.behaviour = behaviour or BemBehaviour()
        self.clock = clock  # unix seconds: retention, the listing delay, the moment of events added "now"
        self.version = 0  # bumped by every change made through the emulator: part of every cache key
        self._listings = RecentAnswers(LISTINGS_KEPT)
        # orders drawn for ties (`asc_ties` or `desc_ties` "per_request"), by request: a reader's answers do not hang
        # on how the other reader's requests interleaved with its own (tests gave one result on a quiet machine and
        # another under load)
        self._tie_draws: dict[str, int] = {}

    def list_events(self, path: str, query: Query, headers: Mapping[str, str]) -> ApiResponse:
        if headers.get("x-api-key") != self.api_key:
            return ApiResponse(401, {"message": "Unauthorized"})
        try:
            limit = int(first(query, "limit") or 50)
        except ValueError:
            return ApiResponse(422, {"message": "limit must be an integer"})
        if not 1 <= limit <= 100:
            return ApiResponse(422, {"message": "limit must be between 1 and 100"})
        after, before = first(query, "startingAfter"), first(query, "endingBefore")
        if self.behaviour.starting_after == "ignored":
            after = None
        if after and before:
            return ApiResponse(400, {"message": "startingAfter and endingBefore are mutually exclusive"})
        descending = (first(query, "sortOrder") or "asc") == "desc" and self.behaviour.honours_sort_order
        listed, position = self._listing(query, descending)
        if (self.behaviour.desc_ties if descending else self.behaviour.asc_ties) == "per_request":
            listed, position = self._ties_drawn(listed, query)
        for cursor in (after, before):
            if cursor and cursor not in position:
                if self.behaviour.unknown_cursor == "reject":
                    return ApiResponse(400, {"message": f"event {cursor} not found"})
                if self.behaviour.unknown_cursor == "server_error":
                    return ApiResponse(500, {"message": "Internal Server Error"})
                if self.behaviour.unknown_cursor == "empty":
                    return ApiResponse(200, {"events": [], "totalCount": len(listed)})
                after = before = None  # "from_start": as if no cursor had been sent
        total = len(listed)
        # slice the page only: copying the tail first made each request cost O(events)
        if after and self.behaviour.starting_after == "after_second":
            second = int(created_at(listed[position[after]]))
            later = (lambda e: int(created_at(e)) < second) if descending else (lambda e: int(created_at(e)) > second)
            listed = [e for e in listed if later(e)][:limit]
        elif after:
            start = position[after] + (0 if self.behaviour.starting_after == "inclusive" else 1)
            listed = listed[start : start + limit]
        elif before:
            listed = listed[max(position[before] - limit, 0) : position[before]]
        else:
            listed = listed[:limit]
        return ApiResponse(200, {"events": [self._public(e) for e in listed], "totalCount": total})

    def _listing(self, query: Query, descending: bool) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The filtered, unexpired events in listing order and each ID's position; kept while the question,
        the data and the behaviour stay the same, as they do across the pages of one sync."""
        filters = tuple(first(query, name) for name in (*CSV_FILTERS, "isLabelled"))
        expired_before, committed_by = self._expired_before(), self._committed_by()
        # the committed events only grow with the clock: their count says whether the listing changed
        committed = None if committed_by is None else sum(1 for e in self.events if created_at(e) <= committed_by)
        data = (len(self.events), id(self.events), self.version)
        key = (filters, descending, expired_before, committed, data, self.behaviour)

        def listing() -> tuple[list[dict[str, Any]], dict[str, int]]:
            kept = [
                e
                for e in self.events
                if self._matches(e, query, self.behaviour.honours_event_ids)
                and self._listable(e, expired_before, committed_by)
            ]
            listed = self._ordered(kept, descending)
            return listed, {e["eventID"]: i for i, e in enumerate(listed)}

        return self._listings.get(key, listing)

    def _ordered(self, events: list[dict[str, Any]], descending: bool) -> list[dict[str, Any]]:
        if self.behaviour.sort_by == "id":
            return sorted(events, key=lambda e: e["eventID"], reverse=descending)
        if self.behaviour.sort_by == "created":
            return sorted(events, key=lambda e: e[CREATED_KEY], reverse=descending)
        # by creation second only: each direction orders the events of one second by its own tie rule
        ties = self.behaviour.desc_ties if descending else self.behaviour.asc_ties
        by_second: dict[int, list[dict[str, Any]]] = {}
        for event in events:
            by_second.setdefault(int(created_at(event)), []).append(event)
        listed = []
        for second in sorted(by_second, reverse=descending):
            listed += _broken_ties(by_second[second], ties)
        return listed

    def _ties_drawn(self, listed: list[dict[str, Any]], query: Query) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """`listed` with the events of each creation second in a new order, and each ID's position in it."""
        request = repr(sorted(query.items()))
        self._tie_draws[request] = asked = self._tie_draws.get(request, 0) + 1
        rng = random.Random(f"bem ties {request} {asked}")
        runs: list[list[dict[str, Any]]] = []
        for event in listed:
            if runs and int(created_at(runs[-1][0])) == int(created_at(event)):
                runs[-1].append(event)
            else:
                runs.append([event])
        for run in runs:
            rng.shuffle(run)
        drawn = [event for run in runs for event in run]
        return drawn, {e["eventID"]: i for i, e in enumerate(drawn)}

    def listed_ids(self) -> set[str]:
        """The IDs of every event listed now (committed, not expired), whatever the filters: the ground truth."""
        return {e["eventID"] for e in self.listed_events()}

    def listed_events(self) -> list[dict[str, Any]]:
        """Every event listed now, in no particular order."""
        expired_before, committed_by = self._expired_before(), self._committed_by()
        return [e for e in self.events if self._listable(e, expired_before, committed_by)]

    def _expired_before(self) -> int | None:
        retention = self.behaviour.retention_seconds
        return None if retention is None else int(self.clock()) - retention

    def _committed_by(self) -> float | None:
        delay = self.behaviour.listing_delay_seconds
        return self.clock() - delay if delay else None

    @staticmethod
    def _listable(event: Mapping[str, Any], expired_before: int | None, committed_by: float | None) -> bool:
        if committed_by is not None and created_at(event) > committed_by:
            return False
        if expired_before is None:
            return True
        second = ksuid_seconds(event["eventID"])
        return second is None or second >= expired_before

    @staticmethod
    def _matches(event: Mapping[str, Any], query: Query, honours_event_ids: bool = True) -> bool:
        for parameter, field in CSV_FILTERS.items():
            if parameter == "eventIDs" and not honours_event_ids:
                continue
            wanted = first(query, parameter)
            if wanted is not None and event.get(field) not in wanted.split(","):
                return False
        labelled = first(query, "isLabelled")
        return labelled is None or bool(event.get("_labelled")) == (labelled == "true")

    @staticmethod
    def _public(event: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}


def _broken_ties(events: list[dict[str, Any]], ties: TieOrder) -> list[dict[str, Any]]:
    """The events of one second in the order a tie rule gives: by ID or by insertion, up or down (drawn anew for each
    request: by insertion here, then BemApi._ties_drawn)."""
    key = (lambda e: e["eventID"]) if ties.startswith("id") else (lambda e: e[CREATED_KEY])
    return sorted(events, key=key, reverse=ties.endswith("_reversed"))


def created_at(event: Mapping[str, Any]) -> float:
    """The unix moment an event was created (its ID's second may differ: servers' clocks disagree)."""
    return event[CREATED_KEY][0]
