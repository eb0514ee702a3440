"""Parent ids read from the database: IdSet.from_query."""

from __future__ import annotations

import asyncio

import asyncpg

from atelier.core.loading.ids import IdSet


def test_ids_from_a_query_are_exactly_the_rows(empty_db: str) -> None:
    """IdSet.from_query packs the ids into bitmap words in the database: every edge of a word and
    of the bitmap, ids above it, negative ids, duplicates and NULLs come out as one by one."""
    limit = IdSet._BITMAP_LIMIT
    values = [0, 1, 62, 63, 64, 65, 127, 128, 1000, 1001, 63 * 64 + 63, limit - 1, limit, limit + 5, 2**31 - 1,
              -1, -64, 5, 63, limit]  # the last three are duplicates
    values += list(range(10_000, 20_000, 3))

    async def go() -> IdSet:
        conn = await asyncpg.connect(empty_db)
        try:
            await conn.execute("CREATE TEMP TABLE ids_test (id integer)")
            await conn.executemany("INSERT INTO ids_test VALUES ($1)", [(v,) for v in values] + [(None,)])
            return await IdSet.from_query(conn, "SELECT id FROM ids_test")
        finally:
            await conn.close()

    ids = asyncio.run(go())
    expected = set(values)
    assert ids.count == len(expected)
    assert all(v in ids for v in expected)
    assert not any(v in ids for v in set(range(-70, 25_000)) - expected)
    assert not any(v in ids for v in (limit + 1, 2**31 - 2, -65))
