"""parse_timestamp and format_timestamp: the same answers on every supported Python version.

`datetime.fromisoformat` reads `Z` and 1 to 9 fractional digits only from Python 3.11 on; these tables run
on each version CI tests (the oldest and the newest supported), so a version that reads a form differently
fails here.
"""

from datetime import datetime, timedelta, timezone

import pytest

from source_events.common.timestamps import format_timestamp, parse_timestamp


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=timezone.utc)


ACCEPTED = [
    # Flameup's RFC3339Nano: 0 to 9 fractional digits (trailing zeros trimmed); beyond 6, truncated
    ("2026-11-26T09:00:00Z", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T09:00:00.1Z", utc(2026, 11, 26, 9, 0, 0, 100000)),
    ("2026-11-26T09:00:00.12Z", utc(2026, 11, 26, 9, 0, 0, 120000)),
    ("2026-11-26T09:00:00.123Z", utc(2026, 11, 26, 9, 0, 0, 123000)),
    ("2026-11-26T09:00:00.1234Z", utc(2026, 11, 26, 9, 0, 0, 123400)),
    ("2026-11-26T09:00:00.12345Z", utc(2026, 11, 26, 9, 0, 0, 123450)),
    ("2026-11-26T09:00:00.123456Z", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T09:00:00.1234567Z", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T09:00:00.12345678Z", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T09:00:00.123456789Z", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T09:00:00.999999999Z", utc(2026, 11, 26, 9, 0, 0, 999999)),  # truncated, not rounded up
    ("2026-11-26T09:00:00.000000001Z", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T09:00:00.0000000000001Z", utc(2026, 11, 26, 9, 0, 0)),
    # offsets: converted to UTC, fraction kept
    ("2026-11-26T09:00:00+00:00", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T09:00:00-00:00", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T11:00:00+02:00", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T04:00:00-05:00", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T14:30:00.5+05:30", utc(2026, 11, 26, 9, 0, 0, 500000)),
    ("2026-11-26T14:30:00.123456789+05:30", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T11:00:00.12+0200", utc(2026, 11, 26, 9, 0, 0, 120000)),
    ("2026-11-26T11:00:00+02", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-27T08:59:00+23:59", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-01-01T01:00:00+02:00", utc(2025, 12, 31, 23, 0, 0)),  # across a year
    # no zone: UTC
    ("2026-11-26T09:00:00", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T09:00:00.123456789", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-26T09:00:00.12345", utc(2026, 11, 26, 9, 0, 0, 123450)),
    ("2026-11-26", utc(2026, 11, 26)),
    # the other spellings RFC 3339 and ISO 8601 allow
    ("2026-11-26 09:00:00Z", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26t09:00:00.5z", utc(2026, 11, 26, 9, 0, 0, 500000)),
    ("2026-11-26T09:00:00,25Z", utc(2026, 11, 26, 9, 0, 0, 250000)),
    ("2026-11-26T09:00Z", utc(2026, 11, 26, 9, 0, 0)),
    ("2026-11-26T11:00+02:00", utc(2026, 11, 26, 9, 0, 0)),
    # this connector's own state, and the CDK's date-range state slices
    ("2026-11-26T09:00:00.123456Z", utc(2026, 11, 26, 9, 0, 0, 123456)),
    ("2026-11-01T00:00:00.000000Z", utc(2026, 11, 1)),
    ("2024-02-29T23:59:59.999999Z", utc(2024, 2, 29, 23, 59, 59, 999999)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[text for text, _ in ACCEPTED])
def test_parse_timestamp_reads_every_accepted_form_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


REJECTED = [
    "",
    "not a date",
    "2026-11-26T",
    "2026-11-26T09",  # hours alone
    "2026-11-26T09:00:00.",  # a point without digits
    "2026-11-26T09:00:00.123ZZ",
    "2026-11-26T09:00:00 Z",
    "2026-11-26T09:00:00+2:00",
    "2026-11-26T09:00:00+02:0",
    "2026-11-26T09:00:00+02:60",
    "2026-11-26T09:00:00+24:00",
    "2026-11-26Z",  # a zone without a time
    "20261126T090000Z",  # ISO 8601 basic format
    "2026-W48-4",  # week date
    "2026-330",  # ordinal date
    "26-11-26T09:00:00Z",
    "2026-11-26T09:00:00.１２３Z",  # non-ASCII digits
    "2026-13-01T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "2026-11-31T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2026-11-26T24:00:00Z",
    "2026-11-26T09:60:00Z",
    "2026-11-26T09:00:60Z",  # no leap seconds
    "0001-01-01T00:00:00+01:00",  # before datetime.min once in UTC
    "9999-12-31T23:00:00-01:00",  # after datetime.max once in UTC
    " 2026-11-26T09:00:00Z",
    "2026-11-26T09:00:00Z\n",
]


@pytest.mark.parametrize("text", REJECTED)
def test_parse_timestamp_rejects_anything_else_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


FORMATTED = [
    (utc(2026, 11, 26, 9, 0, 0), "2026-11-26T09:00:00.000000Z"),
    (utc(2026, 11, 26, 9, 0, 0, 123456), "2026-11-26T09:00:00.123456Z"),
    (datetime(2026, 11, 26, 11, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))), "2026-11-26T09:00:00.000005Z"),
]


@pytest.mark.parametrize(("moment", "text"), FORMATTED, ids=[text for _, text in FORMATTED])
def test_format_timestamp_writes_utc_with_microseconds_and_reads_back(moment: datetime, text: str) -> None:
    assert format_timestamp(moment) == text
    assert parse_timestamp(text) == moment
