"""Flameup's retriever: reads one window's listing with the manifest's requester and record selector.

The CDK's paginator cannot say how this listing is read (source_events.flameup.listing: each request after a
full page overlaps the last event read, steps back when the listing moved, ends only on an empty page at a
confirmed position), so this retriever sends the requests a WindowListing asks for and hands on the records
it keeps. It is also the one place that asks Flameup for a page of a time range (`ask`): the cursor's first
look and the window planner's checks go through it, with the same auth, error handling and API budget.
"""

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation import InterpolatedString
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.common.pages import events_page
from source_events.flameup.errors import refusal_message
from source_events.flameup.listing import ListingChangedTooOften, ListingEvidence, WindowListing
from source_events.flameup.page_size import PageSize
from source_events.flameup.windows import BoundaryClaims

# Refused page sizes asked again smaller before giving up: halving 1000 reaches 1 in 10.
SETTLE_ATTEMPTS = 12


@dataclass
class FlameupRetriever(SimpleRetriever):
    """The manifest's requester (auth, since/until and filters, error handling, the API budget) and record
    selector, driven by a WindowListing per window instead of a paginator.

        retriever:
          type: CustomRetriever
          class_name: source_events.flameup.retriever.FlameupRetriever
          page_size: "{{ config['flameup'].get('page_size') or '' }}"   # '': found at run time
          requester: ...
          record_selector: ...
    """

    page_size: Any = ""
    parameters: InitVar[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        configured = str(InterpolatedString.create(str(self.page_size or ""), parameters=parameters).eval(self.config))
        #: the `limit` to ask for and the cap Flameup serves, shared by the sync's windows
        self.page_sizes = PageSize(int(configured) if configured.strip() not in ("", "None") else None)
        self._evidence = ListingEvidence()
        self._claims = BoundaryClaims()

    def ask(self, window: StreamSlice, offset: int, limit: int | None = None) -> requests.Response:
        """One page of `window`'s time range at `offset`, `limit` events (default: the page size). A `limit`
        Flameup refuses while the page size is the connector's to find is asked again smaller
        (FlameupErrorHandler hands the refusal back)."""
        for _ in range(SETTLE_ATTEMPTS):
            asked = self.page_sizes.limit if limit is None else limit
            response = self.requester.send_request(
                stream_slice=window, request_params={"limit": asked, "offset": offset}
            )
            if response is not None and response.status_code == 200:
                return response
            self.page_sizes.refused(asked, _message_of(response))
        raise AirbyteTracedException(
            message="Flameup refused every page size the connector asked for; set `flameup.page_size` to a size "
            "Flameup accepts.",
            internal_message=f"{SETTLE_ATTEMPTS} page sizes refused",
            failure_type=FailureType.config_error,
        )

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None) -> Iterable[Any]:
        listing = WindowListing(self.page_sizes, self._evidence)
        claims = self._claims.of_window(stream_slice["start_time"], stream_slice["end_time"])
        while not listing.done:
            response = self.ask(stream_slice, listing.offset)
            events, _ = events_page(response)
            try:
                fresh = set(listing.take(_ids(events)))
            except ListingChangedTooOften as error:
                raise AirbyteTracedException(
                    message="Flameup's listing kept changing while a window was read (events deleted or added under "
                    "the reader); nothing was lost so far. Retry the sync.",
                    internal_message=f"window {stream_slice['start_time']} - {stream_slice['end_time']}: {error}",
                    failure_type=FailureType.transient_error,
                ) from None
            for record in self.record_selector.select_records(
                response=response, stream_state={}, records_schema=records_schema, stream_slice=stream_slice
            ):
                key = record.get("id")
                if isinstance(key, str):  # an event without an id cannot be told apart from another: emitted
                    if key not in fresh:
                        continue
                    fresh.discard(key)  # an event listed twice in one page is emitted once
                if claims.first_to_claim(record):
                    yield record if isinstance(record, Record) else Record(record, self.name, stream_slice)


def _ids(events: list) -> list[str]:
    return [event["id"] for event in events if isinstance(event, Mapping) and isinstance(event.get("id"), str)]


def _message_of(response: requests.Response | None) -> str:
    return refusal_message(response) if response is not None else ""
