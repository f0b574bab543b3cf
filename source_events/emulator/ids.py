"""IDs shaped like the real ones: Flameup `evt_` + 32 hex, bem KSUIDs (4-byte seconds + 16 random bytes, base62)."""

import random

from source_events.bem.ksuid import BASE62, EPOCH, LENGTH


def flameup_event_id(rng: random.Random) -> str:
    return f"evt_{rng.getrandbits(128):032x}"


def ksuid(unix_seconds: int, rng: random.Random, prefix: str = "ev_") -> str:
    value = ((unix_seconds - EPOCH) << 128) | rng.getrandbits(128)
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, 62)
        chars.append(BASE62[digit])
    return prefix + "".join(reversed(chars))
