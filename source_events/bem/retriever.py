"""bem's retriever: sends, one after another, the requests its BemReading asks for, and hands on the records it
keeps. A chain of requests each decided by the answer to the one before (a page, a check of the saved
position, the newest-first recovery) is more than the CDK's paginator can say: it ends a partition on the
first answer that is not a 2xx, and a rejected position is exactly such an answer."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events.bem.reading import BemReading


@dataclass
class BemRetriever(SimpleRetriever):
    """The manifest's requester (auth, filters, error handling, backoff) and record selector, driven by the
    slice's BemReading (source_events.bem.reading) instead of a paginator.

        retriever:
          type: CustomRetriever
          class_name: source_events.bem.retriever.BemRetriever
          requester: ...
          record_selector: ...
    """

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None) -> Iterable[Any]:
        reading: BemReading = stream_slice.extra_fields["reading"]
        while True:
            request = reading.request
            response = self.requester.send_request(stream_slice=stream_slice, request_params=request.query)
            if response is None:
                return
            reading.take(response)
            for record in self.record_selector.select_records(
                response=response, stream_state={}, records_schema=records_schema, stream_slice=stream_slice
            ):
                if reading.keep(record["eventID"]):
                    yield record if isinstance(record, Record) else Record(record, self.name, stream_slice)
            if not reading.handed_on():
                return
