"""An events page's body as both APIs send it, `{"events": [...], "total": 42}` (Flameup) or
`{"events": [...], "totalCount": 42}` (bem), read without the CDK: the connector's readers and error handler
(source_events.common.pages, source_events.common.errors) and the quick check (source_events.quick_check)
accept the same pages."""

from collections.abc import Mapping
from typing import Any

import orjson


def parse_body(content: bytes) -> Mapping[str, Any]:
    """The body as a JSON object; {} when it is none (HTML, JSON cut short, a list)."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, Mapping) else {}


def is_events_page(body: Mapping[str, Any], key: str | None = None) -> bool:
    """Whether a 200's body is an events page: its `events` is a list (maybe empty), and, given `key`, each event
    an object whose `key` (its primary key) is a non-empty string."""
    events = body.get("events")
    if not isinstance(events, list):
        return False
    return key is None or all(isinstance(event, Mapping) and _is_key(event.get(key)) for event in events)


def _is_key(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def events_in(body: Mapping[str, Any]) -> list:
    events = body.get("events")
    return events if isinstance(events, list) else []
