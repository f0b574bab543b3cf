"""source-events: an Airbyte source for the Flameup and bem event APIs."""

__all__ = ["SourceEvents"]


def __getattr__(name: str):
    # Loaded on first use: `source_events.emulator` and the demo need none of the CDK.
    if name == "SourceEvents":
        from source_events.source import SourceEvents

        return SourceEvents
    raise AttributeError(name)
