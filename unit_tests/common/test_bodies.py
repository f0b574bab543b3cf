"""What the error handler takes for an events page (source_events.common.bodies): a list of events, each with its
primary key when one is named. Through HTTP: test_reliability.py's `event_without_key` fault."""

import pytest

from source_events.common.bodies import is_events_page


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
