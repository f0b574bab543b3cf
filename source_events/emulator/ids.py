"""IDs shaped like the real ones: Flameup `evt_` + 32 hex, bem KSUIDs (4-byte seconds + 16 random bytes, base62)."""

import random

KSUID_EPOCH = 1_400_000_000
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def flameup_event_id(rng: random.Random) -> str:
    return f"evt_{rng.getrandbits(128):032x}"


def ksuid(unix_seconds: int, rng: random.Random, prefix: str = "ev_") -> str:
    value = ((unix_seconds - KSUID_EPOCH) << 128) | rng.getrandbits(128)
    chars = []
    for _ in range(27):
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return prefix + "".join(reversed(chars))
