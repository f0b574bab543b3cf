"""A read's configured catalog held against the config, before any request: a stream the config does not provide
is refused by name, and so is a catalog that lists none.

Without it, the CDK reads nothing for such a stream and the sync succeeds without a word: a misspelled name, or
the other API's stream when only one API is configured, would look like an empty stream; a catalog of no streams
(`"streams": []`, a catalog cut down by hand) like a sync that found nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_events.manifest import closest_stream, stream_sections

if TYPE_CHECKING:
    from source_events.config import EventsConfig


def refuse_streams_not_provided(stream_names: Iterable[str], settings: EventsConfig) -> None:
    """Raise a config_error naming every stream of a catalog that this config does not provide."""
    sections = stream_sections()
    provided = settings.streams
    stream_names = list(stream_names)
    if not stream_names:
        raise AirbyteTracedException(
            message=(
                f"The catalog lists no stream, so there is nothing to read. This config provides: {_named(provided)}. "
                "`source-events catalog --config … --output catalog.json` writes a catalog of the streams it provides."
            ),
            internal_message="empty catalog",
            failure_type=FailureType.config_error,
        )
    unknown = sorted(set(stream_names) - set(provided))
    if not unknown:
        return
    reasons = ", ".join(
        f"`{name}` (needs a `{sections[name]}` section in the config, not switched off by `{sections[name]}.replicate`)"
        if name in sections
        else f"`{name}` (no such stream{_did_you_mean(name)})"
        for name in unknown
    )
    raise AirbyteTracedException(
        message=(
            f"The catalog names streams this config does not provide: {reasons}. This config provides: "
            f"{_named(provided)}. Remove them from the catalog "
            "(`source-events catalog --config … --output catalog.json` writes a catalog of the streams it provides) or "
            "configure their API."
        ),
        internal_message=f"catalog streams not provided by the config: {unknown}",
        failure_type=FailureType.config_error,
    )


def _did_you_mean(name: str) -> str:
    """`; did you mean `bem_events`?` for a stream name one typo away from one of the connector's, else nothing."""
    close = closest_stream(name)
    return f"; did you mean `{close}`?" if close else ""


def _named(streams: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in streams)
