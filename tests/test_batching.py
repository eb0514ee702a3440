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


def read_many(db: str, keys: list[int], max_in_flight: int | None) -> tuple[list[Any], CountingPool, KeyedReader]:
    async def go() -> tuple[list[Any], CountingPool, KeyedReader]:
        pool = CountingPool(db, size=8)
        try:
            reader = KeyedReader(pool, QUERY, SINGLE, max_in_flight=max_in_flight)
            values = await asyncio.gather(*(reader.get(k) for k in keys))
            return list(values), pool, reader
        finally:
            await pool.close()

    return asyncio.run(go())


@pytest.mark.parametrize("max_in_flight", [None, 1, 3])
def test_concurrent_reads_share_queries_and_get_their_own_values(db: str, max_in_flight: int | None) -> None:
    distinct = [k % 1200 + 1 for k in range(0, 6000, 7)]  # some past the table's end
    keys = distinct + distinct[:100]  # some asked twice
    values, pool, reader = read_many(db, keys, max_in_flight)
    assert values == [f"value {k}" if k <= 1000 else None for k in keys]
    assert pool.most_running <= (max_in_flight or 1) + reader.late_batches  # a late batch lets one more start
    assert len(pool.queries) < len(keys) / 10  # coalesced: far fewer queries than reads
    assert sum(pool.queries) == len(set(keys))  # a key read twice at once is asked for once


def test_the_cap_never_exceeds_the_pool(db: str) -> None:
    """One connection stays free for queries that are not batched."""
    _, pool, _ = read_many(db, list(range(1, 1001)), 50)
    assert pool.most_running <= pool.size - 1  # late batches included


def test_a_failed_batch_reaches_every_waiter_and_the_reader_recovers(db: str) -> None:
    async def go() -> tuple[list[Any], list[Any]]:
        pool = Pool(db, size=4)
        try:
            failing = ("SELECT id, 'value ' || id || left('', 1 / (id - 500)) FROM batching_test "
                       "WHERE id = ANY($1::int[])")
            reader = KeyedReader(pool, failing, SINGLE)  # fails on a batch that holds key 500
            failed = await asyncio.gather(*(reader.get(k) for k in range(495, 505)), return_exceptions=True)
            after = await asyncio.gather(*(reader.get(k) for k in (1, 2, 3)))
            return failed, list(after)
        finally:
            await pool.close()

    failed, after = asyncio.run(go())
    assert all(isinstance(e, asyncpg.DivisionByZeroError) for e in failed)
    assert after == ["value 1", "value 2", "value 3"]


# A batch that holds key 13 takes a second (a page read from a slow disk, a busy database).
SLOW_ON_13 = ("WITH nap AS (SELECT pg_sleep(CASE WHEN 13 = ANY($1::int[]) THEN 1.0 ELSE 0 END)) "
              "SELECT id, 'value ' || id FROM batching_test, nap WHERE id = ANY($1::int[])")


def test_a_late_batch_does_not_hold_up_the_next(db: str) -> None:
    async def go() -> None:
        pool = CountingPool(db, size=8)
        try:
            reader = KeyedReader(pool, SLOW_ON_13, SINGLE, max_in_flight=1)
            slow = asyncio.ensure_future(reader.get(13))
            await asyncio.sleep(0.05)  # its batch is running
            others = await asyncio.gather(*(reader.get(k) for k in range(20, 40)))
            assert others == [f"value {k}" for k in range(20, 40)]
            assert not slow.done()  # the others were answered while the late batch still ran
            assert await slow == "value 13" and reader.late_batches >= 1
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(go(), 30))


def test_late_batches_are_bounded(db: str) -> None:
    async def go() -> None:
        pool = CountingPool(db, size=8)
        try:
            every_batch_slow = SLOW_ON_13.replace("13 = ANY($1::int[])", "true").replace("1.0", "0.3")
            reader = KeyedReader(pool, every_batch_slow, SINGLE, max_in_flight=1, max_late=2)
            reads = []
            for wave in range(8):  # keys keep arriving while every batch is late
                reads.append(asyncio.ensure_future(reader.get(wave + 1)))
                await asyncio.sleep(0.05)
            assert await asyncio.gather(*reads) == [f"value {k}" for k in range(1, 9)]
            assert pool.most_running <= 1 + 2  # one on time, two late: the rest wait for them
            assert reader.late_batches >= 2
        finally:
            await pool.close()

    asyncio.run(asyncio.wait_for(go(), 30))
