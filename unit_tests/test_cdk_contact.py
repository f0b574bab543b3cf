"""The canary for source_events/cdk_contact.py, every name this connector takes from airbyte-cdk that is not
public: each still exists and still is what the connector expects. After a CDK upgrade, a failure here names
the attribute that moved, before any behaviour test fails in a way that is harder to read."""

import io
import logging
import threading
from collections.abc import Callable

import pytest
import requests
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.sources.connector_state_manager import ConnectorStateManager
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HTTPAPIBudget
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory
from airbyte_cdk.sources.declarative.requesters.error_handlers import HttpResponseFilter
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.declarative.stream_slicers.declarative_partition_generator import (
    DeclarativePartitionFactory,
)
from airbyte_cdk.sources.message import MessageRepository

from source_events import SourceEvents, cdk_contact
from source_events.common.budget import PacingBudget, PacingPolicy
from source_events.common.deadline import WholeAnswerDeadline
from source_events.common.errors import EventsErrorHandler


def _named(description: str, reach: Callable[[], object]) -> object:
    try:
        return reach()
    except AttributeError as error:
        pytest.fail(f"airbyte-cdk no longer has {description} ({error}): update source_events/cdk_contact.py")


@pytest.fixture
def source(config) -> SourceEvents:
    return SourceEvents(config=config.with_flameup().with_bem().build())


def test_a_manifest_stream_still_reads_through_a_partition_factory_and_a_retriever(source, config):
    for stream in source.streams(config.with_flameup().with_bem().build()):
        factory = _named(
            "DefaultStream._stream_partition_generator._partition_factory",
            lambda s=stream: cdk_contact.partition_factory_of(s),
        )
        retriever = _named("DeclarativePartitionFactory._retriever", lambda s=stream: cdk_contact.retriever_of(s))
        assert isinstance(factory, DeclarativePartitionFactory) and isinstance(retriever, SimpleRetriever)


def test_a_requester_still_sends_through_a_session_whose_adapters_bound_each_whole_answer(source, config):
    for stream in source.streams(config.with_flameup().with_bem().build()):
        requester = cdk_contact.retriever_of(stream).requester
        session = _named("HttpRequester._http_client._session", lambda r=requester: cdk_contact.session_of(r))
        assert isinstance(session, requests.Session)
        assert all(isinstance(session.get_adapter(p), WholeAnswerDeadline) for p in ("https://", "http://"))


def test_the_source_still_has_its_factory_state_manager_message_repository_and_queue(source):
    factory = _named("ConcurrentDeclarativeSource._constructor", lambda: cdk_contact.component_factory_of(source))
    assert isinstance(factory, ModelToComponentFactory)
    assert isinstance(
        _named("ConcurrentDeclarativeSource._connector_state_manager", lambda: cdk_contact.state_manager_of(source)),
        ConnectorStateManager,
    )
    assert isinstance(
        _named("ConcurrentDeclarativeSource._message_repository", lambda: cdk_contact.message_repository_of(source)),
        MessageRepository,
    )
    queue = _named("ConcurrentDeclarativeSource._concurrent_source._queue", lambda: source._concurrent_source._queue)  # noqa: SLF001
    assert queue.maxsize == 1_000  # limit_queued_messages took effect


def test_the_component_schema_is_still_kept_on_the_source_and_read_only_while_it_is_built(source, config):
    """release_component_schema drops it from a built source; every command builds the source first, and the
    suite runs each of them (a CDK that read the schema later would fail there)."""
    assert (
        _named(
            "ConcurrentDeclarativeSource._declarative_component_schema",
            lambda: source._declarative_component_schema,  # noqa: SLF001
        )
        is None
    )
    assert source.streams(config.with_flameup().with_bem().build())
    assert source.spec(logging.getLogger("airbyte")).connectionSpecification


def test_the_factory_still_builds_the_api_budget_policy_from_its_constructor_table(source, config):
    source.streams(config.with_flameup().with_bem().build())  # builds the API budget
    table = _named(
        "ModelToComponentFactory.PYDANTIC_MODEL_TO_CONSTRUCTOR",
        lambda: cdk_contact.component_factory_of(source).PYDANTIC_MODEL_TO_CONSTRUCTOR,
    )
    assert HTTPAPIBudget in table
    budget = _named("the source's API budget", lambda: cdk_contact.component_factory_of(source)._api_budget)  # noqa: SLF001
    assert isinstance(budget, PacingBudget)
    assert all(isinstance(policy, PacingPolicy) for policy in budget._policies)  # noqa: SLF001


def test_a_custom_error_handler_ends_with_the_default_response_filter(source):
    handler = EventsErrorHandler(config={}, parameters={}, response_filters=[])

    assert isinstance(handler.response_filters[-1], HttpResponseFilter)


@pytest.mark.parametrize("module", [cdk_contact.RETRY_SLEEPS_IN, cdk_contact.BUDGET_SLEEPS_IN])
def test_the_cdk_still_sleeps_through_the_module_attributes_tests_replace(module):
    assert callable(_named(f"{module.__name__}.time.sleep", lambda: module.time.sleep))


def test_the_entrypoint_still_announces_its_memory_monitor_and_the_notice_is_dropped(caplog):
    with caplog.at_level("INFO", logger="airbyte"):
        AirbyteEntrypoint(SourceEvents())
        announced = [r for r in caplog.records if r.getMessage().startswith(cdk_contact.MEMORY_MONITOR_NOTICE)]
        caplog.clear()
        with cdk_contact.without_the_memory_monitor_notice():
            AirbyteEntrypoint(SourceEvents())

    assert [r.name for r in announced] == ["airbyte"], "the CDK no longer logs its MemoryMonitor notice so"
    assert not [r for r in caplog.records if "MemoryMonitor" in r.getMessage()]


def test_the_print_buffer_still_holds_what_it_has_not_written_under_its_lock():
    buffer = type(PRINT_BUFFER)(flush_interval=3600)  # writes nothing out by itself
    buffer.write('{"type":"RECORD"}\n')
    buffer.write('{"type":"STATE"}')  # `print` writes the line break next
    out = io.StringIO()

    _named(
        "PrintBuffer.lock and PrintBuffer.buffer", lambda: cdk_contact.write_out_whole_lines_and_hold(1, buffer, out)
    )

    assert out.getvalue() == '{"type":"RECORD"}\n'
    held_elsewhere = []
    thread = threading.Thread(target=lambda: held_elsewhere.append(buffer.lock.acquire(timeout=0.05)))
    thread.start()
    thread.join()
    assert held_elsewhere == [False]  # nothing else writes after it


def test_the_test_wrapper_still_runs_a_command_through_the_cdks_entrypoint():
    output = _named(
        "airbyte_cdk.test.entrypoint_wrapper._run_command", lambda: cdk_contact.run_command(SourceEvents(), ["spec"])
    )

    assert [m.spec.connectionSpecification["title"] for m in output.spec_messages] == ["Events Source Spec"]
