"""Which parents exist, which ids were seen: a set of int ids, dense where ids are."""

from __future__ import annotations

import asyncpg
import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


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
                self._grow(byte + 1)
            if self._bits[byte] & bit:
                return False
            self._bits[byte] |= bit
        else:
            if value in self._big:
                return False
            self._big.add(value)
        self.count += 1
        return True

    def _grow(self, size: int) -> None:
        """Room for at least `size` bytes of bitmap (doubling). A shared set's is full size already."""
        assert isinstance(self._bits, bytearray)
        self._bits.extend(bytes(max(size, 2 * len(self._bits)) - len(self._bits)))

    def __contains__(self, value: int) -> bool:
        if 0 <= value < self._BITMAP_LIMIT:
            byte = value >> 3
            return byte < len(self._bits) and bool(self._bits[byte] & (1 << (value & 7)))
        return value in self._big

    def contains_many(self, values: Ints) -> Bools:
        """`value in self` for every value at once."""
        inside = (values >= 0) & (values < self._BITMAP_LIMIT)
        found = np.zeros(len(values), np.bool_)
        bits = np.frombuffer(self._bits, np.uint8)
        ids = values[inside]
        present = np.zeros(len(ids), np.bool_)
        within = (ids >> 3) < len(bits)
        present[within] = (bits[ids[within] >> 3] >> (ids[within] & 7).astype(np.uint8)) & 1 == 1
        del bits  # a bytearray cannot grow while numpy looks at it
        found[inside] = present
        for i in np.flatnonzero(~inside).tolist():
            found[i] = int(values[i]) in self._big
        return found

    def add_many(self, values: Ints) -> None:
        """`add` for ids that are neither here already nor repeated in `values`."""
        inside = (values >= 0) & (values < self._BITMAP_LIMIT)
        ids = values[inside]
        if len(ids):
            needed = int(ids.max() >> 3) + 1
            if needed > len(self._bits):
                self._grow(needed)
            bits = np.frombuffer(self._bits, np.uint8)
            np.bitwise_or.at(bits, ids >> 3, np.left_shift(1, ids & 7).astype(np.uint8))
            del bits
        self._big.update(values[~inside].tolist())
        self.count += len(values)

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

