"""IDs shaped like the real ones, written for the emulator alone (the connector decodes bem IDs its own way,
and unit_tests/emulator/test_own_parsers.py checks the two agree):

- Flameup: `evt_` + 32 hex digits.
- bem: KSUID-style, a type prefix up to the last `_` and 27 base62 characters encoding 20 bytes: a 4-byte
  big-endian count of seconds since 2014-05-13 (unix 1,400,000,000), then 16 random bytes.
"""

import random
import string
from functools import lru_cache

KSUID_EPOCH = 1_400_000_000
KSUID_CHARS = 27
_ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # base62, in byte order
_VALUE = {char: value for value, char in enumerate(_ALPHABET)}
_RANDOM_BITS = 128
_ALL_BITS = 160


def flameup_event_id(rng: random.Random) -> str:
    return f"evt_{rng.getrandbits(128):032x}"


def ksuid(unix_seconds: int, rng: random.Random, prefix: str = "ev_") -> str:
    """A KSUID minted at `unix_seconds`. A second outside the 2**32 after the KSUID epoch wraps around, as
    the reference implementation's uint32 conversion does (so its ID decodes to another second)."""
    offset = (unix_seconds - KSUID_EPOCH) % (1 << (_ALL_BITS - _RANDOM_BITS))
    value = (offset << _RANDOM_BITS) | rng.getrandbits(_RANDOM_BITS)
    chars = []
    for _ in range(KSUID_CHARS):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return prefix + "".join(reversed(chars))


# retention and "delete the oldest" read the second of every event of a listing, again and again
@lru_cache(maxsize=1 << 16)
def ksuid_seconds(event_id: str) -> int | None:
    """The unix second a KSUID-style ID was minted at, or None for anything that is not one."""
    _, _, body = event_id.rpartition("_")
    if len(body) != KSUID_CHARS or any(char not in _VALUE for char in body):
        return None
    value = 0
    for char in body:
        value = value * 62 + _VALUE[char]
    if value >> _ALL_BITS:
        return None  # 27 base62 characters hold more than 160 bits: not an encoding of 20 bytes
    return (value >> _RANDOM_BITS) + KSUID_EPOCH
