"""The events a window's listings returned, kept in 16-32 bytes each.

A window's listings return up to MAX_EVENTS_PER_WINDOW events (150,000: source_events.flameup.windows), and the
reader asks of every event listed whether the window read it before: an event listed again after the listing moved is
emitted once (source_events.flameup.listing), and a part beyond a listing's end is read again only if it lists an
event not read (source_events.flameup.depth). A set of the IDs costs ~115 bytes an event (the string and its slot):
17 MB a window, most of the memory a large Flameup sync held. So each ID is kept as its 128-bit BLAKE2 digest, in
open-addressing tables of two arrays of 64-bit halves, sixteen of them, each growing on its own. Two different IDs
share a digest with a probability of about n² / 2¹²⁹ (10⁻²⁷ in a window of a million events): far below any error
the network or the machine makes, so a digest found is the event read.
"""

import hashlib
import struct
from array import array

# A shard grows (doubles) once it is this full: linear probing stays short (a few slots a lookup).
MOST_FULL = 0.7
# The table is SHARDS tables, picked by a digest's low bits, each growing on its own: a growth holds one shard's old
# and new arrays at once, not the whole table's (0.5.12; one table held 6 MB at once as it grew past 92,000 events,
# and the 2 MB it then freed stayed with the process: a window's peak memory, ~2 MB more, bench/bench.py --memory).
SHARDS = 16
SMALLEST = 1 << 6  # slots a shard starts with
_HALVES = struct.Struct("<QQ")


class SeenEvents:
    """A set of event IDs, asked a page at a time."""

    def __init__(self) -> None:
        self._shards = [_Shard() for _ in range(SHARDS)]

    def __len__(self) -> int:
        return sum(shard.count for shard in self._shards)

    def known(self, ids: list[str]) -> list[bool]:
        """For each of `ids`: whether it was added before."""
        shards = self._shards
        return [shards[low % SHARDS].slot(high, low)[1] for high, low in map(_halves, ids)]

    def all_known(self, ids: list[str]) -> bool:
        """Whether every one of `ids` was added before."""
        return all(self.known(ids))

    def add(self, ids: list[str]) -> list[bool]:
        """For each of `ids`: whether it was added before this call; all of them are added. One probe an ID: an ID
        listed twice in `ids` was not added before this call either time."""
        known, added, shards = [], set(), self._shards
        for event_id in ids:
            high, low = _halves(event_id)
            shard = shards[low % SHARDS]
            slot, found = shard.slot(high, low)
            known.append(found and (high, low) not in added)
            if not found:
                added.add((high, low))
                shard.put(slot, high, low)
        return known


class _Shard:
    """An open-addressing table of 128-bit digests in two arrays of 64-bit halves; a slot is empty while its high
    half is 0."""

    def __init__(self) -> None:
        self.count = 0
        self._high, self._low = _empty(SMALLEST), _empty(SMALLEST)

    def slot(self, high: int, low: int) -> tuple[int, bool]:
        """The slot holding the digest (high, low), or the empty one where it would go."""
        table_high, table_low, mask = self._high, self._low, len(self._high) - 1
        slot = high & mask
        while True:
            held = table_high[slot]
            if held == 0:
                return slot, False
            if held == high and table_low[slot] == low:
                return slot, True
            slot = (slot + 1) & mask

    def put(self, slot: int, high: int, low: int) -> None:
        """The digest (high, low) into the empty `slot` that `slot()` gave for it."""
        self._high[slot], self._low[slot] = high, low
        self.count += 1
        if self.count > MOST_FULL * len(self._high):
            self._grow()

    def _grow(self) -> None:
        old = zip(self._high, self._low, strict=True)
        self._high, self._low = _empty(2 * len(self._high)), _empty(2 * len(self._low))
        for high, low in old:
            if high:
                slot, _ = self.slot(high, low)
                self._high[slot], self._low[slot] = high, low


def _empty(slots: int) -> array:
    return array("Q", [0]) * slots  # no zeroed bytes to copy: a table's size at most, not twice it, as it grows


def _halves(event_id: str) -> tuple[int, int]:
    high, low = _HALVES.unpack(hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), digest_size=16).digest())
    return high or 1, low  # 0 marks an empty slot
