"""What the error handler takes for an events page (source_events.common.bodies): a list of events, each with its
primary key when one is named. Through HTTP: test_reliability.py's `event_without_key` fault."""

import pytest

from source_events.common.bodies import is_events_page, parse_body


@pytest.mark.parametrize(
    "body, key, page",
    [
        ({"events": [], "total": 0}, "id", True),
        ({"events": [{"id": "ev_1"}, {"id": "ev_2"}]}, "id", True),
        ({"events": [{"id": "ev_1"}, {"id": None}]}, "id", False),
        ({"events": [{"id": "ev_1"}, {"event": "page_view"}]}, "id", False),
        ({"events": [{"id": ""}]}, "id", False),
        ({"events": [{"id": 7}]}, "id", False),
        ({"events": ["ev_1"]}, "id", False),
        ({"events": [{"id": None}]}, None, True),  # no key named: any list
        ({}, None, False),
        ({"events": {"id": "ev_1"}}, "id", False),
    ],
)
def test_an_events_page_is_a_list_of_events_each_with_its_key(body, key, page):
    assert is_events_page(body, key) is page


@pytest.mark.parametrize(
    "content, body",
    [
        (b'{"events": [{"n": 123456789012345678901234567890}]}', {"events": [{"n": 123456789012345678901234567890}]}),
        (b'{"events": [{"n": -18446744073709551617}]}', {"events": [{"n": -18446744073709551617}]}),
        (b'{"events": [{"n": 9223372036854775807}]}', {"events": [{"n": 9223372036854775807}]}),
        (b'{"events": [{"s": "\\ud83d"}]}', {"events": [{"s": "\ud83d"}]}),
        (b'{"events": [{"x": 1e400}]}', {"events": [{"x": float("inf")}]}),
        (b'{"events": [{"id": "ev_1", "t": 1.5}], "total": 1}', {"events": [{"id": "ev_1", "t": 1.5}], "total": 1}),
        (b"<html><body>502</body></html>", {}),
        (b'{"events": [', {}),
        (b"[1, 2]", {}),
        (b"", {}),
    ],
    ids=[
        "past-64-bits",
        "negative-past-64-bits",
        "int64-max",
        "lone-surrogate",
        "past-a-double",
        "plain",
        "html",
        "cut-short",
        "a-list",
        "empty",
    ],
)
def test_a_body_is_read_with_every_value_as_sent(content, body):
    parsed = parse_body(content)

    assert parsed == body
    assert [type(v) for e in parsed.get("events", []) for v in e.values()] == [
        type(v) for e in body.get("events", []) for v in e.values()
    ]
