"""The one place where event timestamps are parsed and state timestamps are written.

Flameup does not document the precision of `timestamp`: it may carry no fraction, or 1 to 9 digits
(Go's RFC3339Nano trims trailing zeros). The CDK's strptime-based parsing rejects more than 6 digits, and
`datetime.fromisoformat` reads these only from Python 3.11 on (3.10 takes neither `Z` nor a fraction other
than 3 or 6 digits). So `parse_timestamp` matches the accepted forms itself, the same on every Python
version, and hands `fromisoformat` only the one form that every version reads.
"""

import re
from datetime import datetime, timezone
from typing import Any

STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# RFC 3339 and the ISO 8601 extended forms around it: a date, optionally followed by `T` (or a space) and
# HH:MM[:SS[.fraction]] with any number of fractional digits, and an optional zone: `Z`, ±HH:MM, ±HHMM or ±HH.
_ISO_8601 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ]([0-9]{2}:[0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:([Zz])|([+-][0-9]{2})(?::?([0-9]{2}))?)?)?"
)


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 date-time into an aware UTC datetime; a value without a zone is taken as UTC.

    Fractions keep microseconds: digits beyond the sixth are dropped (truncated, not rounded). Raises
    ValueError for anything else, including out-of-range fields (month 13, 25:00, an offset of 24 h)."""
    match = _ISO_8601.fullmatch(value)
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}")
    date, hours_minutes, seconds, fraction, _zulu, offset_hours, offset_minutes = match.groups()
    # YYYY-MM-DDTHH:MM:SS.ffffff[+HH:MM]: the one form datetime.fromisoformat reads on every version
    canonical = f"{date}T{hours_minutes or '00:00'}:{seconds or '00'}.{(fraction or '')[:6].ljust(6, '0')}"
    if offset_hours is None:
        return datetime.fromisoformat(canonical).replace(tzinfo=timezone.utc)
    if offset_minutes is not None and offset_minutes >= "60":
        raise ValueError(f"not an ISO 8601 date-time: {value!r} (offset minutes)")
    parsed = datetime.fromisoformat(f"{canonical}{offset_hours}:{offset_minutes or '00'}")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before datetime.min in UTC
        raise ValueError(f"not a representable date-time: {value!r}") from None


def time_of(value: Any) -> datetime | None:
    """A record's time field parsed, or None when it is missing, not a string, or no date-time."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def format_timestamp(value: datetime) -> str:
    """Format a UTC date-time with microseconds, so state never loses precision."""
    return value.astimezone(timezone.utc).strftime(STATE_FORMAT)
