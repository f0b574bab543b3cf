"""The emulator parses date-times and bem IDs with its own code, so a bug on either side shows as a
disagreement here rather than being mirrored: the emulator's and the connector's parsers read a table of
forms the same way, and refuse the same malformed ones."""

import ast
import random
from pathlib import Path

import pytest

from source_events import emulator
from source_events.bem.ksuid import ksuid_seconds as connector_ksuid_seconds
from source_events.common.timestamps import parse_timestamp as connector_parse
from source_events.emulator.ids import KSUID_EPOCH, ksuid, ksuid_seconds
from source_events.emulator.timestamps import parse_date_time

_FRACTIONS = ["", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".1234567", ".12345678", ".123456789"]
_ZONES = ["Z", "z", "+00:00", "-00:00", "+05:30", "-08:00", "+0530", "-0800", "+05", "-11", "+23:59", ""]
_MOMENTS = [("2026-01-01", "00:00:00"), ("2024-02-29", "23:59:59"), ("1999-12-31", "12:34:56")]
_ODD_ONES = [
    "2026-06-30T23:59:59,999999999Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-01-01t00:00:00Z",
]


@pytest.mark.parametrize("fraction", _FRACTIONS, ids=lambda f: f"{len(f) - 1 if f else 0}_digits")
def test_both_parsers_read_every_form_the_same(fraction):
    forms = [f"{day}{sep}{time}{fraction}{zone}" for day, time in _MOMENTS for sep in ("T", " ") for zone in _ZONES]
    for text in forms + (_ODD_ONES if not fraction else []):
        assert parse_date_time(text) == connector_parse(text), text
        assert parse_date_time(text).utcoffset().total_seconds() == 0, text


@pytest.mark.parametrize(
    "text",
    [
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+05:60",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00ZZ",
        "0001-01-01T00:00:00+01:00",
        "2026-1-01T00:00:00Z",
        "２０２６-01-01T00:00:00Z",
        "not a date",
        "",
    ],
)
def test_both_parsers_refuse_the_same_malformed_forms(text):
    with pytest.raises(ValueError):
        parse_date_time(text)
    with pytest.raises(ValueError):
        connector_parse(text)


class _Bits(random.Random):
    """Random bits all zeros or all ones: the IDs nearest a second's boundaries."""

    def __init__(self, ones: bool) -> None:
        super().__init__(0)
        self._ones = ones

    def getrandbits(self, k: int) -> int:
        return (1 << k) - 1 if self._ones else 0


_LAST_SECOND = KSUID_EPOCH + 2**32 - 1
_EDGE_SECONDS = [KSUID_EPOCH, KSUID_EPOCH + 1, 1_790_000_000, 1_790_000_001, _LAST_SECOND - 1, _LAST_SECOND]


@pytest.mark.parametrize("second", _EDGE_SECONDS)
@pytest.mark.parametrize("bits", ["zeros", "ones", "random"])
def test_both_ksuid_decoders_read_every_edge_second_the_same(second, bits):
    rng = random.Random(second) if bits == "random" else _Bits(bits == "ones")
    for prefix in ("ev_", "tr_", "", "a_b_"):
        event_id = ksuid(second, rng, prefix=prefix)
        assert ksuid_seconds(event_id) == connector_ksuid_seconds(event_id) == second


def test_both_ksuid_decoders_agree_on_many_random_ids():
    rng = random.Random(11)
    for _ in range(5_000):
        event_id = ksuid(rng.randint(KSUID_EPOCH, _LAST_SECOND), rng)
        assert ksuid_seconds(event_id) == connector_ksuid_seconds(event_id)


@pytest.mark.parametrize(
    "event_id",
    ["string", "ev_short", "ev_" + "!" * 27, "ev_" + "z" * 27, "ev_" + "é" * 27, "ev_" + "0" * 28, "ev_" + "A" * 26],
)
def test_both_ksuid_decoders_refuse_what_is_not_a_ksuid(event_id):
    assert ksuid_seconds(event_id) is None and connector_ksuid_seconds(event_id) is None


@pytest.mark.parametrize("second, wrapped", [(KSUID_EPOCH - 1, _LAST_SECOND), (_LAST_SECOND + 1, KSUID_EPOCH)])
def test_a_second_a_ksuid_cannot_carry_wraps_around_as_the_reference_implementation_does(second, wrapped):
    event_id = ksuid(second, random.Random(0))
    assert ksuid_seconds(event_id) == connector_ksuid_seconds(event_id) == wrapped


def test_the_emulator_imports_nothing_of_the_connector_but_the_manifest():
    folder = Path(emulator.__file__).parent
    borrowed = []
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            borrowed += [
                f"{module.name}: {name}"
                for name in names
                if name.split(".")[0] == "source_events"
                and not name.startswith("source_events.emulator")
                and name != "source_events.manifest"
            ]

    assert borrowed == []
