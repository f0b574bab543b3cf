"""A saved state is resumed from only under settings that read no more than the ones it was read under
(source_events.common.checkpoints.saved_for_scope); the integration tests read it through the emulator
(integration_tests/test_incremental.py)."""

import logging

import pytest

from source_events.common.checkpoints import SCOPE_KEY, saved_for_scope

SCOPE = {"workspace_id": "ws_a", "event": None, "start_date": "2026-01-01T00:00:00.000000Z"}
STATE = {"timestamp": "2026-12-01T00:00:00.000000Z"}


def _said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_state_read_under_the_same_settings_is_resumed_from_silently(caplog):
    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: SCOPE}, SCOPE) == (STATE, SCOPE)
    assert _said(caplog) == []


def test_a_state_that_names_no_settings_is_taken_as_it_is_and_the_next_names_them(caplog):
    assert saved_for_scope("flameup_events", STATE, SCOPE) == (STATE, SCOPE)
    assert saved_for_scope("flameup_events", {}, SCOPE) == ({}, SCOPE)
    assert _said(caplog) == []


def test_a_later_start_date_reads_less_the_state_is_resumed_from_and_the_next_says_the_later_one(caplog):
    """Read from a later start date, a sync may leave a gap after the state's position (it starts past it): the next
    state says the later date, so that moved back, the earlier one reads the gap. 0.5.15's first draft kept the
    earlier date: moved later then back, 137 of 400 events were never read (adversary review)."""
    later = {**SCOPE, "start_date": "2026-06-01T00:00:00.000000Z"}

    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: SCOPE}, later) == (STATE, later)
    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: later}, SCOPE) == ({}, SCOPE)
    assert len(_said(caplog)) == 1


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"start_date": "2025-06-01T00:00:00.000000Z"}, "`flameup.start_date`"),
        ({"event": "page_view"}, "`flameup.event`"),
        ({"workspace_id": "ws_b", "event": "signup"}, "`flameup.event`, `flameup.workspace_id`"),
    ],
    ids=["earlier_start_date", "filter", "workspace_and_filter"],
)
def test_a_state_read_under_settings_that_read_less_is_not_resumed_from_and_that_is_said(caplog, changes, named):
    wider = {**SCOPE, **changes}

    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: SCOPE}, wider) == ({}, wider)
    assert _said(caplog) == [
        f"Stream flameup_events: its saved state was read with other settings ({named} changed since), so it does "
        "not say what these settings read: the stream reads from its start, and the events read before come again "
        "(a deduplicating destination folds them)."
    ]


def test_settings_saved_in_another_shape_are_settings_that_changed(caplog):
    assert saved_for_scope("bem_events", {**STATE, SCOPE_KEY: ["ws_a"]}, {"event_types": []}) == (
        {},
        {"event_types": []},
    )
    assert "(`bem.event_types` changed since)" in _said(caplog)[0]


def test_settings_that_read_the_same_events_say_the_same(config):
    """An empty filter filters nothing, as unset; a list's order and repeats say nothing."""
    from source_events.config import parse_config

    flameup = config.with_flameup().build()
    blank = {**flameup, "flameup": {**flameup["flameup"], "user_id": "", "event": ""}}
    bem = config.with_bem().build()
    listed = [{**bem, "bem": {**bem["bem"], "function_names": names}} for names in (["a", "b"], ["b", "a", "a"])]

    assert parse_config(blank).flameup.state_scope() == parse_config(flameup).flameup.state_scope()
    assert parse_config(listed[0]).bem.state_scope() == parse_config(listed[1]).bem.state_scope()


def test_a_state_saved_before_the_server_was_named_is_resumed_from_and_the_next_names_it(caplog):
    """States saved before 0.5.17 name no `base_url`: taken as read from this one, or every connection would read its
    history again after the upgrade. One that names another server is not resumed from."""
    named = {**SCOPE, "base_url": "https://api.flameup.ai/api/v1"}

    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: SCOPE}, named) == (STATE, named)
    assert _said(caplog) == []
    elsewhere = {**named, "base_url": "https://proxy.example.com/api/v1"}
    assert saved_for_scope("flameup_events", {**STATE, SCOPE_KEY: elsewhere}, named) == ({}, named)
    assert "(`flameup.base_url` changed since)" in _said(caplog)[0]


def test_a_server_is_named_by_its_scheme_host_and_path_alone(config):
    """Unset is the vendor's; a host's case and a trailing / say nothing; a query (a token someone put in `base_url`)
    never reaches a state (adversary review of 0.5.17's first version)."""
    from source_events.config import parse_config

    flameup = config.with_flameup().build()
    scope = {
        url: parse_config({"flameup": {**flameup["flameup"], "base_url": url}}).flameup.state_scope()["base_url"]
        for url in ("https://API.flameup.ai/api/v1/", "https://api.flameup.ai/api/v1?key=SECRET")
    }
    unset = {**flameup["flameup"]}
    unset.pop("base_url", None)

    assert set(scope.values()) == {"https://api.flameup.ai/api/v1"}
    assert parse_config({"flameup": unset}).flameup.state_scope()["base_url"] == "https://api.flameup.ai/api/v1"
