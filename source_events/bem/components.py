"""bem's manifest components: the filter that drops what was already read, and startingAfter paging."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_events.common.pages import EventsPagination, events_page
from source_events.two_ended import Meeting, Verdict


@dataclass
class BemAlreadyReadFilter(RecordFilter):
    """Drops the bem events this sync must not emit again, and ends a reader where another has been.

    - A resumed sync starts from an event of an earlier second than the last one read (IDs order only to
      the second, see BemEventIdCursor), so its first pages repeat events: their IDs travel in the slice as
      `skip_ids`.
    - A sync reading from both ends (source_events.two_ended) asks the slice's Meeting about each event:
      emit it, skip it (this reader emitted it before it resumed), or stop (the other reader has read it
      and everything past it).
    Paging reads the raw response, so dropping records here never ends it early: only a stop does.
    """

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        meeting = _meeting_of(stream_slice)
        if meeting is not None:
            sort_order = stream_slice["sort_order"]
            for record in records:
                verdict = meeting.admit(sort_order, record.get("eventID"))
                if verdict is Verdict.STOP:
                    return
                if verdict is Verdict.EMIT:
                    yield record
            return
        skip_ids = frozenset(stream_slice.get("skip_ids") or ()) if stream_slice else frozenset()
        for record in records:
            if record.get("eventID") not in skip_ids:
                yield record


def _meeting_of(stream_slice: StreamSlice | None) -> Meeting | None:
    return stream_slice.extra_fields.get("meeting") if isinstance(stream_slice, StreamSlice) else None


@dataclass
class BemStartingAfterPagination(EventsPagination):
    """bem's paging, as its SDK does it: `startingAfter` = the last ID of the page, until an EMPTY page.

    A full last page is followed by one empty page, and `totalCount` is no stop signal. The ID is read
    from the raw response, so records dropped client-side never end paging early. On a sync reading from
    both ends, a reader also stops once its Meeting says it has reached the other.

        pagination_strategy:
          type: CustomPaginationStrategy
          class_name: source_events.bem.components.BemStartingAfterPagination
          page_size: 100
    """

    @property
    def initial_token(self) -> Any | None:
        return None

    def next_page_token(
        self,
        response: Any,
        last_page_size: int,
        last_record: Any,
        last_page_token_value: Any | None = None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        events, total = events_page(response)
        return self.token_after(events, total, last_page_token_value, stream_slice) if events else None

    def token_after(
        self, events: list, total: int | None, last_token: Any | None, stream_slice: StreamSlice | None
    ) -> Any | None:
        meeting = _meeting_of(stream_slice)
        if meeting is not None and meeting.stopped(stream_slice["sort_order"]):
            return None
        return events[-1].get("eventID")
