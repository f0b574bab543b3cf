"""source-events: an Airbyte source for the Flameup and bem event APIs."""

from source_events.source import SourceEvents

__all__ = ["SourceEvents"]
