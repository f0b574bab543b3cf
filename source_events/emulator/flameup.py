"""Flameup `GET /workspaces/{workspaceId}/events`: Bearer auth, limit/offset, since/until, user_id/event filters."""

import bisect
import hashlib
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from source_events.emulator.responses import ApiResponse, Query, RecentAnswers, first
from source_events.emulator.timestamps import parse_date_time

_SECOND = timedelta(seconds=1)
SELECTIONS_KEPT = 64
PATH = re.compile(r"/workspaces/(?P<workspace_id>[^/]+)/events")


class FlameupBehaviour(BaseModel, frozen=True):
    """The undocumented behaviours, one switch each (frozen: replaced, never changed, and part of cache keys)."""

    since_inclusive: bool = True
    until_inclusive: bool = False
    compare_precision: Literal["second", "microsecond"] = "microsecond"
    # the field `since`/`until` compare, which is also the field the listing is sorted by unless `sort_field` says:
    # when the event happened ("timestamp") or when the API received it ("created_at", as Amplitude's export filters)
    filter_field: Literal["timestamp", "created_at"] = "timestamp"
    # the field the listing is sorted by, when not the one compared (`WHERE created_at BETWEEN .. ORDER BY timestamp`)
    sort_field: Literal["filter_field", "timestamp", "created_at"] = "filter_field"
    # what an `offset` at or past the listing's end answers: an empty page, or the last page again (offsets clamped,
    # as page-number paginators such as Django's `get_page` do)
    past_the_end: Literal["empty", "last_page"] = "empty"
    newest_first: bool = True
    limit_cap: int = Field(100, ge=1)  # never returns more than this many events a page
    # a `limit` above the cap: served capped without a word ("cap"), or refused with a 400 whose message names
    # the largest `limit` allowed ("reject") or does not ("reject_unnamed")
    limit_over_cap: Literal["cap", "reject", "reject_unnamed"] = "cap"
    default_limit: int = 50
    # The share of events the key cannot see (soft-deleted, or not permitted), chosen by a hash of the event's
    # ID. A page is cut from the listing with them, by `offset` and `limit`, then they are removed: a page can
    # hold fewer events than asked although more follow (Google Drive's files.list documents this). One
    # reading is kept: a page is never empty while a visible event follows it. A cut that holds only hidden
    # events answers the first visible event after it instead, so an empty page still ends a listing.
    hidden_share: float = Field(0.0, ge=0, le=1)
    # what `total` says: the filtered set's size, hidden events included ("exact"), only the events the key
    # sees ("visible"), a fraction of the set ("under"), at most a constant ("capped", as search backends do),
    # every event of the workspace ("unfiltered"), a different number on each answer ("changing": 50 % to
    # 150 % of the size, in turn), or nothing ("absent": no `total` key)
    total: Literal["exact", "visible", "under", "capped", "unfiltered", "changing", "absent"] = "exact"
    total_fraction: float = Field(0.7, ge=0)  # "under": the share of the real count reported
    total_cap: int = Field(10_000, ge=0)  # "capped": the largest count reported
    # the deepest position a listing serves, as search backends cap `offset + limit` (Elasticsearch's 10,000,
    # GitHub search's 1,000): past it a page is cut short or empty ("empty"), a page reaching past it is answered
    # empty whole ("empty_page"), or the request is refused with a 400 naming the cap ("reject"). None: no cap.
    max_offset: int | None = Field(None, ge=1)
    beyond_max_offset: Literal["empty", "empty_page", "reject"] = "empty"
    # what the cap bounds: `offset + limit` (above), or the `offset` alone: a request at an offset of `max_offset`
    # or more is answered as above, any request below it in full (a page reaching past the cap is served whole)
    max_offset_bounds: Literal["offset_plus_limit", "offset"] = "offset_plus_limit"
    # the order of events that share the compared field's value: the same on every request ("stable"), or drawn
    # anew for each request ("per_request"), as `ORDER BY timestamp LIMIT .. OFFSET ..` without a tie-breaker
    # gives in SQL databases (seeded by the request's number: the same run after run)
    tie_order: Literal["stable", "per_request"] = "stable"


class FlameupApi:
    def __init__(
        self,
        workspace_id: str,
        api_key: str,
        events: list[dict[str, Any]],
        behaviour: FlameupBehaviour | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.workspace_id = workspace_id
        self.api_key = api_key
        self.events = events
        self.behaviour = behaviour or FlameupBehaviour()
        self.clock = clock  # unix seconds: the moment of events added "now" (source_events.emulator.changes)
        self.version = 0  # bumped by every change made through the emulator: part of every cache key
        self._sorted: tuple | None = None
        self._selections = RecentAnswers(SELECTIONS_KEPT)
        self._visible_counts = RecentAnswers(SELECTIONS_KEPT)
        self._answers = 0  # answers given, for a `total` that changes from one answer to the next
        self._tie_draws = 0  # orders drawn for ties (`tie_order="per_request"`)

    def list_events(self, path: str, query: Query, headers: Mapping[str, str]) -> ApiResponse:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return ApiResponse(401, {"error": {"code": "unauthorized", "message": "Invalid or missing API key"}})
        match = PATH.fullmatch(path)
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
        size = min(limit, self.behaviour.limit_cap)
        deepest = self.behaviour.max_offset
        bounded = offset + size if self.behaviour.max_offset_bounds == "offset_plus_limit" else offset + 1
        if deepest is not None and bounded > deepest:
            if self.behaviour.beyond_max_offset == "reject":
                bound = "offset + limit" if self.behaviour.max_offset_bounds == "offset_plus_limit" else "offset"
                message = f"Result window is too large: {bound} must be at most {deepest}"
                return ApiResponse(400, {"error": {"code": "bad_request", "message": message}})
            size = max(deepest - offset, 0) if self.behaviour.beyond_max_offset == "empty" else 0
        key = self._question(query, since, until)
        selected = self._select(key, query, since, until)
        if self.behaviour.tie_order == "per_request":
            selected = self._ties_shuffled(selected)
        page = self._visible_page(selected, offset, size) if size else []
        body: dict[str, Any] = {"events": page}
        total = self._total(key, selected)
        if total is not None:
            body["total"] = total
        return ApiResponse(200, body)

    def hidden(self, event: Mapping[str, Any]) -> bool:
        """Whether the key cannot see this event (`hidden_share`): the same answer for an ID every time."""
        share = self.behaviour.hidden_share
        if share <= 0:
            return False
        digest = hashlib.blake2b(str(event["id"]).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") < share * 2**64

    def listed_ids(self) -> set[str]:
        """The IDs of every event the key can see now, whatever the filters: the ground truth."""
        return {e["id"] for e in self.events if not self.hidden(e)}

    def _visible_page(self, selected: list[dict[str, Any]], offset: int, size: int) -> list[dict[str, Any]]:
        """The page cut at `offset` (counting hidden events), without its hidden events. A cut of hidden
        events only answers the first visible event after it: an empty page always ends the listing (unless
        `past_the_end` answers the last page there)."""
        if self.behaviour.past_the_end == "last_page" and selected and offset >= len(selected):
            offset = max(len(selected) - size, 0)
        page = selected[offset : offset + size]
        if self.behaviour.hidden_share <= 0:
            return page
        visible = [e for e in page if not self.hidden(e)]
        if visible or not page:
            return visible
        following = next((e for e in selected[offset + size :] if not self.hidden(e)), None)
        return [following] if following is not None else []

    def _ties_shuffled(self, selected: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`selected` with each run of events sharing the compared field's value in a new order. Only a selection
        with ties draws one, so that the order a request gets does not hang on how many requests without ties (other
        windows, read at once) came before it: tests of this reading gave one result on a quiet machine and another
        under load."""
        field = self.behaviour.filter_field
        runs: list[list[dict[str, Any]]] = []
        for event in selected:
            if runs and parse_date_time(runs[-1][0][field]) == parse_date_time(event[field]):
                runs[-1].append(event)
            else:
                runs.append([event])
        if all(len(run) == 1 for run in runs):
            return selected
        self._tie_draws += 1
        rng = random.Random(f"ties {self._tie_draws}")
        for run in runs:
            rng.shuffle(run)
        return [event for run in runs for event in run]

    def _total(self, key: tuple, selected: list[dict[str, Any]]) -> int | None:
        reading = self.behaviour.total
        count = len(selected)
        if reading == "absent":
            return None
        if reading == "visible":
            return self._visible_counts.get(key, lambda: sum(1 for e in selected if not self.hidden(e)))
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

    def _question(self, query: Query, since: datetime | None, until: datetime | None) -> tuple:
        """What a selection depends on: the question, the data and the behaviour."""
        data = (len(self.events), id(self.events), self.version)
        return (first(query, "user_id"), first(query, "event"), since, until, data, self.behaviour)

    def _select(self, key: tuple, query: Query, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
        """The filtered events in the listing order, hidden ones included. The pages of one window ask the
        same question, and windows are read concurrently: the last SELECTIONS_KEPT answers are kept."""

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
            sort_field = self.behaviour.sort_field
            if sort_field not in ("filter_field", self.behaviour.filter_field):
                selected.sort(key=lambda e: (parse_date_time(e[sort_field]), e["id"]))
            if self.behaviour.newest_first:
                selected.reverse()
            return selected

        return self._selections.get(key, select)

    def prepare(self) -> None:
        """Index the events now, as an API has its index before the first request (the emulator's server
        calls this when it starts): otherwise the first request, which the pace counts until its answer,
        carries the index's build (about a second for 400,000 events)."""
        self._index()

    def oldest_first(self) -> list[dict[str, Any]]:
        """Every event, the oldest first by the field `since`/`until` compare."""
        return self._index()[0]

    def _index(self) -> tuple[list[dict[str, Any]], list[datetime]]:
        """Events sorted by the filter field with its parsed value, rebuilt when the events change."""
        field = self.behaviour.filter_field
        data = (len(self.events), id(self.events), self.version, field)
        if self._sorted is None or self._sorted[0] != data:
            ordered = sorted((parse_date_time(e[field]), i) for i, e in enumerate(self.events))
            self._sorted = (data, [self.events[i] for _, i in ordered], [m for m, _ in ordered])
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
    return None if value is None else parse_date_time(value)
