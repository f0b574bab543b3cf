"""bem's retriever: sends, one after another, the requests one of the sync's two readers asks for, and hands on
the records it keeps. A chain of requests each decided by the answer to the one before (a page, a check of a
position, of the sort order) is more than the CDK's paginator can say: it ends a partition on the first answer
that is not a 2xx, and a rejected position is exactly such an answer. Each next request leaves as soon as it is
known, while the records of the answer before are handed on (source_events.bem.ahead)."""

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.types import Record, StreamSlice

from source_events import cdk_contact
from source_events.bem.ahead import RequestsAhead
from source_events.bem.forward import Request
from source_events.bem.reading import BemReading, ListingDoesNotMoveOn, PositionsKeptVanishing, listed_ids
from source_events.common.errors import UserFacingError, said_plainly
from source_events.common.pages import events_page

LOGGER = logging.getLogger("airbyte")


@dataclass
class BemRetriever(SimpleRetriever):
    """The manifest's requester (auth, filters, error handling, backoff) and record selector, driven by one reader
    of a BemReading (source_events.bem.reading) per partition instead of a paginator.

        retriever:
          type: CustomRetriever
          class_name: source_events.bem.retriever.BemRetriever
          requester: ...
          record_selector: ...

    The stream's cursor starts each sync's reading (`start`): it holds the saved state and emits the checkpoints;
    each partition names its reader (`{"reader": "oldest_first"}` or `"newest_first"`).
    """

    def start(self, reading: BemReading, checkpoint: Callable[[], None]) -> None:
        """This sync's partitions read with `reading`, and `checkpoint` is called after each page's records."""
        self._reading, self._checkpoint = reading, checkpoint

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None) -> Iterable[Any]:
        reading, checkpoint, partition = self._reading, self._checkpoint, stream_slice["reader"]

        def ask(request: Request) -> requests.Response | None:
            with said_plainly():
                return self.requester.send_request(stream_slice=stream_slice, request_params=request.query)

        def send(request: Request) -> requests.Response | None:
            try:
                return ask(request)
            except UserFacingError as error:
                if request.starting_after is None or not _server_errors(error):
                    raise
                # bem may answer a position it no longer knows with a 5xx: failing, the state would name it again on
                # every sync (adversary review of 0.5.17). Still listed, the failure was bem's; gone, it vanished.
                check = ask(Request(request.sort_order, 1, event_ids=request.starting_after))
                if (
                    check is None
                    or check.status_code != 200
                    or request.starting_after in listed_ids(events_page(check)[0])
                ):
                    raise
                LOGGER.info(
                    f"Stream bem_events: bem failed on startingAfter={request.starting_after}, which it no longer "
                    "lists: the position vanished."
                )
                return _position_gone(check)

        with RequestsAhead[Request, requests.Response | None](send) as ahead:
            while (request := reading.request(partition)) is not None:
                response = ahead.answer(request)
                if response is None:
                    return
                try:
                    emit = set(reading.take(partition, response))
                except ListingDoesNotMoveOn as error:
                    said = (
                        f"bem answered {error.answers} requests in a row with events read before only, asking the "
                        "same positions in turn"
                        if error.circling
                        else f"bem answered {error.answers} requests in a row with the same page of events read before"
                    )
                    raise UserFacingError(
                        message=f"{said} (the last: ?{urlencode(error.request.query)}): its listing does not move on "
                        "from where the reader stands (does bem read `startingAfter`, its cursor, another way?). The "
                        "sync stops rather than ask without end.",
                        internal_message=str(error),
                        failure_type=FailureType.system_error,
                    ) from None
                except PositionsKeptVanishing as error:
                    raise UserFacingError(
                        message="bem's listing kept changing while it was read: the events the readers stood on were "
                        "deleted again and again (events deleted as they are read?). Retry the sync when fewer events "
                        "are being deleted.",
                        internal_message=str(error),
                        failure_type=FailureType.transient_error,
                    ) from None
                if (following := reading.request(partition)) is not None:
                    ahead.send_ahead(following)  # it travels while this answer's records are handed on
                for record in self.record_selector.select_records(
                    response=response, stream_state={}, records_schema=records_schema, stream_slice=stream_slice
                ):
                    if record.get("eventID") in emit:
                        emit.discard(record["eventID"])  # an event listed twice in one page is emitted once
                        yield record if isinstance(record, Record) else Record(record, self.name, stream_slice)
                if reading.handed_on(partition):  # after the page's records: a state never gets ahead of them
                    checkpoint()


def _server_errors(error: UserFacingError) -> bool:
    """Whether a request's retries were spent on 5xx answers."""
    spent = cdk_contact.retries_spent_on(error.__cause__ or error)
    return spent is not None and spent[1].status_code >= 500


def _position_gone(check: requests.Response) -> requests.Response:
    """An answer the reading takes as a rejected position (as a 404 to the request naming it), with no records."""
    gone = requests.Response()
    gone.status_code, gone._content, gone.url = 404, b'{"events": []}', check.url  # noqa: SLF001
    gone.request, gone.headers["Content-Type"] = check.request, "application/json"
    return gone
