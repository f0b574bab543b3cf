"""The emulator reads date-times itself, not with the connector's parser: a parsing bug on one side must
show up as a disagreement, not be mirrored (unit_tests/emulator/test_own_parsers.py compares the two).

It reads what an API that documents "ISO 8601 date-time" takes: RFC 3339 (`T` or a space between date and
time, seconds required) with any number of fractional digits (dot or comma), a zone of `Z`, ±HH:MM, ±HHMM
or ±HH, or none (taken as UTC). Digits past the sixth are dropped: Python keeps microseconds.
"""

import re
from datetime import datetime, timedelta, timezone

_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?"
    r"(?P<zone>[Zz]|(?P<sign>[+-])(?P<zone_hours>[0-9]{2})(?::?(?P<zone_minutes>[0-9]{2}))?)?"
)


def parse_date_time(text: str) -> datetime:
    """`text` as an aware UTC datetime; ValueError for anything else (month 13, 24:00, an offset of 24 h)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid date-time: {text}")
    part = match.groupdict()
    try:
        return _utc(part)
    except (ValueError, OverflowError) as error:  # month 13, 24:00, an offset of 24 h, a year-1 underflow
        raise ValueError(f"invalid date-time: {text} ({error})") from None


def _utc(part: dict[str, str | None]) -> datetime:
    zone = timezone.utc
    if part["sign"]:
        minutes = int(part["zone_minutes"] or 0)
        if minutes >= 60:
            raise ValueError("zone minutes past 59")
        offset = timedelta(hours=int(part["zone_hours"]), minutes=minutes)
        zone = timezone(-offset if part["sign"] == "-" else offset)
    fields = [int(part[name]) for name in ("year", "month", "day", "hour", "minute", "second")]
    microseconds = int((part["fraction"] or "")[:6].ljust(6, "0"))
    return datetime(*fields, microseconds, tzinfo=zone).astimezone(timezone.utc)
