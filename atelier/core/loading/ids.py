"""Which parents exist, which ids were seen: a set of int ids, dense where ids are."""

from __future__ import annotations

import asyncpg


class IdSet:
    """A set of non-negative int ids: a bitmap below 2^27, a Python set above (junk ids)."""

    _BITMAP_LIMIT = 1 << 27
    complete = True  # an id not in the set never comes: children may reject its orphans at once

    def __init__(self) -> None:
        self._bits: bytearray | memoryview = bytearray(1 << 17)
        self._big: set[int] = set()
        self.count = 0

    def add(self, value: int) -> bool:
        """Adds; returns False when the id was there already."""
        if 0 <= value < self._BITMAP_LIMIT:
            byte, bit = value >> 3, 1 << (value & 7)
            if byte >= len(self._bits):
                self._bits.extend(bytes(max(byte + 1, 2 * len(self._bits)) - len(self._bits)))
            if self._bits[byte] & bit:
                return False
            self._bits[byte] |= bit
        else:
            if value in self._big:
                return False
            self._big.add(value)
        self.count += 1
        return True

    def __contains__(self, value: int) -> bool:
        if 0 <= value < self._BITMAP_LIMIT:
            byte = value >> 3
            return byte < len(self._bits) and bool(self._bits[byte] & (1 << (value & 7)))
        return value in self._big

    @classmethod
    async def from_query(cls, conn: asyncpg.Connection, query: str) -> IdSet:
        """The ids a one-column query returns. The database packs them into 64-bit words of the
        bitmap (one row per 64 ids, not one per id: the 11M sku ids of the full data set take
        about 2 s instead of 16 s through Python)."""
        ids = cls()
        words = await conn.fetch(f"SELECT id >> 6, bit_or(1::bigint << (id & 63)) FROM ({query}) q(id) "
                                 "WHERE id IS NOT NULL GROUP BY 1")
        bitmap_words = cls._BITMAP_LIMIT >> 6
        size = max([len(ids._bits)] + [8 * (word + 1) for word, _ in words if 0 <= word < bitmap_words])
        ids._bits = bits = bytearray(size)
        for word, value in words:
            if 0 <= word < bitmap_words:
                chunk = value.to_bytes(8, "little", signed=True)
                bits[8 * word:8 * word + 8] = chunk
                ids.count += int.from_bytes(chunk, "little").bit_count()
            else:  # ids below 0 or above the bitmap (junk): one by one
                for bit in range(64):
                    if value >> bit & 1:
                        ids.add(64 * word + bit)
        return ids

