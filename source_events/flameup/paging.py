"""How Flameup pages: `limit`/`offset` over one window's listing."""

from dataclasses import dataclass
from typing import Any

from airbyte_cdk.sources.types import StreamSlice

from source_events.common.pages import EventsPagination


@dataclass
class FlameupOffsetIncrement(EventsPagination):
    """Offset paging that survives a silently capped `limit`.

    Flameup answers `{"events": [...], "total": 42}` and documents neither its maximum `limit` nor what a
    short page means. The CDK's OffsetIncrement stops on a short page, so an API that caps `limit=100` at,
    say, 37 would end every window after 37 events. This strategy advances the offset by the events the
    page really held (counted in the raw response, before any client-side filter) and stops only when a
    page is empty or the offset has reached `total`.

        pagination_strategy:
          type: CustomPaginationStrategy
          class_name: source_events.flameup.paging.FlameupOffsetIncrement
          page_size: 100
    """

    @property
    def initial_token(self) -> Any | None:
        return 0

    def token_after(
        self, events: list, total: int | None, last_token: Any | None, stream_slice: StreamSlice | None
    ) -> Any | None:
        next_offset = int(last_token or 0) + len(events)
        if total is not None and next_offset >= total:
            return None
        return next_offset
