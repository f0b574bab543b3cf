"""bem `GET /events`: x-api-key auth, startingAfter/endingBefore cursors, limit 1..100, CSV-array filters."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel

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
LISTINGS_KEPT = 8  # a sync reading from both ends asks for both sort orders in turn
CREATED_KEY = "_created"  # emulator-only: creation order, for the "sorted by creation time" reading


class BemBehaviour(BaseModel, frozen=True):
    """The undocumented behaviours, one switch each (frozen: replaced, never changed, and part of cache keys)."""

    sort_by: Literal["id", "created"] = "id"


class BemApi:
    def __init__(self, api_key: str, events: list[dict[str, Any]], behaviour: BemBehaviour | None = None) -> None:
        self.api_key = api_key
        self.events = events
        self.behaviour = behaviour or BemBehaviour()
        self._listings = RecentAnswers(LISTINGS_KEPT)

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
        if after and before:
            return ApiResponse(400, {"message": "startingAfter and endingBefore are mutually exclusive"})
        listed, position = self._listing(query, (first(query, "sortOrder") or "asc") == "desc")
        for cursor in (after, before):
            if cursor and cursor not in position:
                return ApiResponse(400, {"message": f"event {cursor} not found"})
        total = len(listed)
        # slice the page only: copying the tail first made each request cost O(events)
        if after:
            listed = listed[position[after] + 1 : position[after] + 1 + limit]
        elif before:
            listed = listed[max(position[before] - limit, 0) : position[before]]
        else:
            listed = listed[:limit]
        return ApiResponse(200, {"events": [self._public(e) for e in listed], "totalCount": total})

    def _listing(self, query: Query, descending: bool) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The filtered events in listing order and each ID's position; kept while the question, the data
        and the behaviour stay the same, as they do across the pages of one sync."""
        filters = tuple(first(query, name) for name in (*CSV_FILTERS, "isLabelled"))
        key = (filters, descending, len(self.events), id(self.events), self.behaviour)

        def listing() -> tuple[list[dict[str, Any]], dict[str, int]]:
            listed = sorted((e for e in self.events if self._matches(e, query)), key=self._sort_key, reverse=descending)
            return listed, {e["eventID"]: i for i, e in enumerate(listed)}

        return self._listings.get(key, listing)

    def _sort_key(self, event: Mapping[str, Any]) -> Any:
        return event[CREATED_KEY] if self.behaviour.sort_by == "created" else event["eventID"]

    @staticmethod
    def _matches(event: Mapping[str, Any], query: Query) -> bool:
        for parameter, field in CSV_FILTERS.items():
            wanted = first(query, parameter)
            if wanted is not None and event.get(field) not in wanted.split(","):
                return False
        labelled = first(query, "isLabelled")
        return labelled is None or bool(event.get("_labelled")) == (labelled == "true")

    @staticmethod
    def _public(event: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}
