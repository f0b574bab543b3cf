"""The KSUID-style IDs bem uses (`tr_2bxoJPNdSD4LgRT4YVC4gt72hlI`): 20 bytes in 27 base62 characters, a
4-byte big-endian count of seconds since 2014-05-13 (1400000000) followed by 16 random bytes. Everything up
to the last `_` is a type prefix. One place for the format: the cursor decodes, the emulator encodes."""

from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
EPOCH = 1_400_000_000
LENGTH = 27


# An ID is decoded more than once, moments apart (its position, then the checks of its page's reading):
# remembering the last few thousand answers makes the later ones cost a lookup.
@lru_cache(maxsize=4096)
def ksuid_seconds(event_id: str) -> int | None:
    """Seconds since the Unix epoch encoded in a KSUID-style ID, or None if it is not one."""
    body = event_id.rsplit("_", 1)[-1]
    if len(body) != LENGTH:
        return None
    value = 0
    for char in body:
        digit = BASE62.find(char)
        if digit < 0:
            return None
        value = value * 62 + digit
    if value >> 160:
        return None
    return (value >> 128) + EPOCH
