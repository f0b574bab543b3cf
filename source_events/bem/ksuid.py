"""The KSUID-style IDs bem uses (`tr_2bxoJPNdSD4LgRT4YVC4gt72hlI`): 20 bytes in 27 base62 characters, a
4-byte big-endian count of seconds since 2014-05-13 (1400000000) followed by 16 random bytes. Everything up
to the last `_` is a type prefix. One place for the format: the cursor decodes, the emulator encodes."""

from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
EPOCH = 1_400_000_000
LENGTH = 27


_DIGITS = {char: value for value, char in enumerate(BASE62)}
# The seconds are the top 32 of the ID's 160 bits: its first 7 characters (of 27) fix them, but for IDs within
# 62**20 of a second's boundary, which the whole decode settles.
_PREFIX = 7
_REST = 62 ** (LENGTH - _PREFIX)
_TOO_LARGE = 1 << 160


# An ID is decoded more than once, moments apart (its position, then the checks of its page's reading):
# remembering the last few thousand answers makes the later ones cost a lookup.
@lru_cache(maxsize=4096)
def ksuid_seconds(event_id: str) -> int | None:
    """Seconds since the Unix epoch encoded in a KSUID-style ID, or None if it is not one."""
    body = event_id[event_id.rfind("_") + 1 :]
    if len(body) != LENGTH or not (body.isascii() and body.isalnum()):
        return None
    prefix = 0
    for char in body[:_PREFIX]:
        prefix = prefix * 62 + _DIGITS[char]
    low = prefix * _REST
    high = low + _REST - 1
    if high < _TOO_LARGE and low >> 128 == high >> 128:
        return (low >> 128) + EPOCH
    return _decoded_seconds(body)


def _decoded_seconds(body: str) -> int | None:
    value = 0
    for char in body:
        value = value * 62 + _DIGITS[char]
    if value >> 160:
        return None
    return (value >> 128) + EPOCH
