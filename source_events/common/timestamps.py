"""The one place where event timestamps are parsed and state timestamps are written.

Flameup does not document the precision of `timestamp`: it may carry no fraction, or 1 to 9 digits
(Go's RFC3339Nano trims trailing zeros). `datetime.fromisoformat` (Python 3.11+) reads all of these and
keeps microseconds; the CDK's strptime-based parsing rejects more than 6 digits.
"""

from datetime import UTC, datetime

STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 date-time; a value without a zone is taken as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """Format a UTC date-time with microseconds, so state never loses precision."""
    return value.astimezone(UTC).strftime(STATE_FORMAT)
