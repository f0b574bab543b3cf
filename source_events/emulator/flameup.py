"""Flameup `GET /workspaces/{workspaceId}/events`: Bearer auth, limit/offset, since/until, user_id/event filters."""

import bisect
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from source_events.common.timestamps import parse_timestamp
from source_events.emulator.responses import ApiResponse, Query, RecentAnswers, first

_SECOND = timedelta(seconds=1)
SELECTIONS_KEPT = 64
PATH = re.compile(r"/workspaces/(?P<workspace_id>[^/]+)/events$")


class FlameupBehaviour(BaseModel, frozen=True):
    """The undocumented behaviours, one switch each (frozen: replaced, never changed, and part of cache keys)."""

    since_inclusive: bool = True
    until_inclusive: bool = False
    compare_precision: Literal["second", "microsecond"] = "microsecond"
    newest_first: bool = True
    limit_cap: int = Field(100, ge=1)  # never returns more than this many events a page
    # a `limit` above the cap: served capped without a word ("cap"), or refused with a 400 whose message names
    # the largest `limit` allowed ("reject") or does not ("reject_unnamed")
    limit_over_cap: Literal["cap", "reject", "reject_unnamed"] = "cap"
    default_limit: int = 50
    # what `total` says: the filtered set's size ("exact"), a fraction of it ("under"), at most a constant
    # ("capped", as search backends do), every event of the workspace ("unfiltered"), a different number on
    # each answer ("changing": 50 % to 150 % of the size, in turn), or nothing ("absent": no `total` key)
    total: Literal["exact", "under", "capped", "unfiltered", "changing", "absent"] = "exact"
    total_fraction: float = Field(0.7, ge=0)  # "under": the share of the real count reported
    total_cap: int = Field(10_000, ge=0)  # "capped": the largest count reported


class FlameupApi:
    def __init__(
        self,
        workspace_id: str,
        api_key: str,
        events: list[dict[str, Any]],
        behaviour: FlameupBehaviour | None = None,
    ) -> None:
        self.workspace_id = workspace_id
        self.api_key = api_key
        self.events = events
        self.behaviour = behaviour or FlameupBehaviour()
        self._sorted: tuple | None = None
        self._selections = RecentAnswers(SELECTIONS_KEPT)
        self._answers = 0  # answers given, for a `total` that changes from one answer to the next

    def list_events(self, path: str, query: Query, headers: Mapping[str, str]) -> ApiResponse:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return ApiResponse(401, {"error": {"code": "unauthorized", "message": "Invalid or missing API key"}})
        match = PATH.search(path)
        if not match or match["workspace_id"] != self.workspace_id:
            return ApiResponse(404, {"error": {"code": "not_found", "message": "Workspace not found"}})
        try:
            since = _bound(first(query, "since"))
            until = _bound(first(query, "until"))
            limit = int(first(query, "limit") or self.behaviour.default_limit)
            offset = int(first(query, "offset") or 0)
        except ValueError as error:
            return ApiResponse(400, {"error": {"code": "bad_request", "message": str(error)}})
        if limit > self.behaviour.limit_cap and self.behaviour.limit_over_cap != "cap":
            message = (
                f"limit must be between 1 and {self.behaviour.limit_cap}"
                if self.behaviour.limit_over_cap == "reject"
                else "limit is too large"
            )
            return ApiResponse(400, {"error": {"code": "bad_request", "message": message}})
        selected = self._select(query, since, until)
        page = selected[offset : offset + min(limit, self.behaviour.limit_cap)]
        body: dict[str, Any] = {"events": page}
        total = self._total(len(selected))
        if total is not None:
            body["total"] = total
        return ApiResponse(200, body)

    def _total(self, count: int) -> int | None:
        reading = self.behaviour.total
        if reading == "absent":
            return None
        if reading == "under":
            return int(count * self.behaviour.total_fraction)
        if reading == "capped":
            return min(count, self.behaviour.total_cap)
        if reading == "unfiltered":
            return len(self.events)
        if reading == "changing":
            self._answers += 1
            return int(count * (0.5 + (self._answers % 5) * 0.25))
        return count

    def _select(self, query: Query, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """The filtered events in the listing order. The pages of one window ask the same question, and
        windows are read concurrently: the last SELECTIONS_KEPT answers are kept until the data or the
        behaviour changes (both are part of the key)."""
        key = (
            first(query, "user_id"),
            first(query, "event"),
            since,
            until,
            len(self.events),
            id(self.events),
            self.behaviour,
        )

        def select() -> list[dict[str, Any]]:
            events, moments = self._index()
            # bisect to a window one second wider than asked; _matches decides the exact bounds, where they
            # can matter: events more than a second inside both bounds are inside whatever the switches say
            low = bisect.bisect_left(moments, since - _SECOND) if since else 0
            high = bisect.bisect_right(moments, until + _SECOND) if until else len(moments)
            inner_low = max(low, bisect.bisect_right(moments, since + _SECOND)) if since else low
            inner_high = min(high, bisect.bisect_left(moments, until - _SECOND)) if until else high
            if inner_low >= inner_high:
                inner_low = inner_high = high
            filtered = first(query, "user_id") is not None or first(query, "event") is not None

            def exactly(start: int, stop: int) -> list[dict[str, Any]]:
                return [
                    e
                    for e, m in zip(events[start:stop], moments[start:stop], strict=True)
                    if self._matches(e, m, query, since, until)
                ]

            inner = events[inner_low:inner_high]
            if filtered:
                inner = [e for e in inner if self._matches_filters(e, query)]
            selected = exactly(low, inner_low) + inner + exactly(inner_high, high)
            if self.behaviour.newest_first:
                selected.reverse()
            return selected

        selected = self._selections.get(key, select)
        return selected

    def prepare(self) -> None:
        """Index the events now, as an API has its index before the first request (the emulator's server
        calls this when it starts): otherwise the first request, which the pace counts until its answer,
        carries the index's build (about a second for 400,000 events)."""
        self._index()

    def _index(self) -> tuple[list[dict[str, Any]], list[datetime]]:
        """Events sorted by time with their parsed timestamps, rebuilt when the events change."""
        if self._sorted is None or self._sorted[0] != (len(self.events), id(self.events)):
            ordered = sorted(((parse_timestamp(e["timestamp"]), i) for i, e in enumerate(self.events)))
            self._sorted = (
                (len(self.events), id(self.events)),
                [self.events[i] for _, i in ordered],
                [m for m, _ in ordered],
            )
        return self._sorted[1], self._sorted[2]

    def _matches(
        self, event: Mapping[str, Any], moment: datetime, query: Query, since: datetime | None, until: datetime | None
    ) -> bool:
        if not self._matches_filters(event, query):
            return False
        moment = self._truncate(moment)
        if since is not None:
            since = self._truncate(since)
            if moment < since or (moment == since and not self.behaviour.since_inclusive):
                return False
        if until is not None:
            until = self._truncate(until)
            if moment > until or (moment == until and not self.behaviour.until_inclusive):
                return False
        return True

    @staticmethod
    def _matches_filters(event: Mapping[str, Any], query: Query) -> bool:
        for name in ("user_id", "event"):
            wanted = first(query, name)
            field = "person_id" if name == "user_id" else "event"
            if wanted is not None and event.get(field) != wanted:
                return False
        return True

    def _truncate(self, moment: datetime) -> datetime:
        return moment.replace(microsecond=0) if self.behaviour.compare_precision == "second" else moment


def _bound(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise ValueError(f"invalid date-time: {value}") from None
