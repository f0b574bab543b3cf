"""An events page's body as both APIs send it, `{"events": [...], "total": 42}` (Flameup) or
`{"events": [...], "totalCount": 42}` (bem), read without the CDK: the connector's readers and error handler
(source_events.common.pages, source_events.common.errors) and the quick check (source_events.quick_check)
accept the same pages."""

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import orjson

# Digits to "1", every other byte to "0": a run of 19 ones is a number orjson may not hold exactly.
_DIGITS = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_NUMBER = b"1" * 19


def parse_body(content: bytes) -> Mapping[str, Any]:
    """The body as a JSON object; {} when it is none (HTML, JSON cut short, a list).

    Every value as the API sent it: orjson (fast) unless it would change one, Python's json then. orjson reads an
    integer past 64 bits as a float, silently, and refuses valid JSON that json reads (a lone surrogate escape, a
    number past a double's range): an event's properties can hold either (adversary review: such an integer reached
    the destination as a float; a page with the others was taken for a damaged answer, and failed every sync on
    it). A page with 19 digits in a row (~40 µs to look) is read by json, which keeps every integer exact; the CDK
    writes what orjson cannot with json as well."""
    try:
        if content.translate(_DIGITS).find(_LONG_NUMBER) < 0:
            with contextlib.suppress(orjson.JSONDecodeError):  # refused: json has the last word
                return _an_object(orjson.loads(content))
        return _an_object(json.loads(content))
    except ValueError:  # json's error (UnicodeDecodeError too)
        return {}


def _an_object(body: Any) -> Mapping[str, Any]:
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
