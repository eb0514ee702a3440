"""The read coalescer (core/batching.py) on a real PostgreSQL: concurrent reads share queries,
never more than the cap run at once, every caller gets its own key's value, errors reach every
waiter and the reader keeps working after them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from conftest import create_database, drop_database

from atelier.core.batching import KeyedReader
from atelier.core.db import Pool

QUERY = "SELECT id, 'value ' || id FROM batching_test WHERE id = ANY($1::int[])"
SINGLE = "SELECT 'value ' || id FROM batching_test WHERE id = $1"


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    url = create_database()

    async def fill() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE TABLE batching_test (id integer PRIMARY KEY);"
                               "INSERT INTO batching_test SELECT generate_series(1, 1000)")
        finally:
            await conn.close()

    asyncio.run(fill())
    try:
        yield url
    finally:
        drop_database(url)


class CountingPool(Pool):
    """The real pool, counting the batch queries it runs and how many ran at once."""

    def __init__(self, dsn: str, size: int) -> None:
        super().__init__(dsn, size=size)
        self.queries: list[int] = []  # keys per batch
        self.running = 0
        self.most_running = 0

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        self.queries.append(len(args[0]))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            return await super().fetch(query, *args)
        finally:
            self.running -= 1


def read_many(db: str, keys: list[int], max_in_flight: int | None) -> tuple[list[Any], CountingPool]:
    async def go() -> tuple[list[Any], CountingPool]:
        pool = CountingPool(db, size=8)
        try:
            reader = KeyedReader(pool, QUERY, SINGLE, max_in_flight=max_in_flight)
            values = await asyncio.gather(*(reader.get(k) for k in keys))
            return list(values), pool
        finally:
            await pool.close()

    return asyncio.run(go())


@pytest.mark.parametrize("max_in_flight", [None, 1, 3])
def test_concurrent_reads_share_queries_and_get_their_own_values(db: str, max_in_flight: int | None) -> None:
    distinct = [k % 1200 + 1 for k in range(0, 6000, 7)]  # some past the table's end
    keys = distinct + distinct[:100]  # some asked twice
    values, pool = read_many(db, keys, max_in_flight)
    assert values == [f"value {k}" if k <= 1000 else None for k in keys]
    assert pool.most_running <= (max_in_flight or 1)
    assert len(pool.queries) < len(keys) / 10  # coalesced: far fewer queries than reads
    assert sum(pool.queries) == len(set(keys))  # a key read twice at once is asked for once


def test_the_cap_never_exceeds_the_pool(db: str) -> None:
    """One connection stays free for queries that are not batched."""
    _, pool = read_many(db, list(range(1, 1001)), 50)
    assert pool.most_running <= pool.size - 1


def test_a_failed_batch_reaches_every_waiter_and_the_reader_recovers(db: str) -> None:
    async def go() -> tuple[list[Any], list[Any]]:
        pool = Pool(db, size=4)
        try:
            failing = "SELECT id, 'value ' || id || left('', 1 / (id - 500)) FROM batching_test WHERE id = ANY($1::int[])"
            reader = KeyedReader(pool, failing, SINGLE)  # fails on a batch that holds key 500
            failed = await asyncio.gather(*(reader.get(k) for k in range(495, 505)), return_exceptions=True)
            after = await asyncio.gather(*(reader.get(k) for k in (1, 2, 3)))
            return failed, list(after)
        finally:
            await pool.close()

    failed, after = asyncio.run(go())
    assert all(isinstance(e, asyncpg.DivisionByZeroError) for e in failed)
    assert after == ["value 1", "value 2", "value 3"]
