"""The connection pool (core/db.py) on a real PostgreSQL, in process: a connection whose state is
unknown is never used again, database failures are `DatabaseUnavailable` (never a query's own
error), and when a connect fails nobody is left waiting for a connection that will not come."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

import asyncpg
import pytest
from conftest import create_database, drop_database, free_port

from atelier.core.db import DatabaseUnavailable, Pool, leaves_connection_idle, means_unavailable


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # every test here is bounded in time


def test_a_cancelled_query_does_not_leave_its_connection_to_the_next_request(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=1)
        try:
            async def slow_write() -> None:
                async with pool.connection() as conn:
                    await conn.execute("SELECT pg_sleep(5)")

            task = asyncio.ensure_future(slow_write())
            await asyncio.sleep(0.3)  # the query is running on the server
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert pool.in_use == 0
            # the one slot is usable at once: a fresh connection, not the one mid-query
            async with pool.connection() as conn:
                assert await conn.fetchval("SELECT 41 + 1") == 42
            assert await pool.fetchval("SELECT 'still fine'") == "still fine"
        finally:
            await pool.close()

    run(go())


def test_a_query_error_keeps_the_connection_and_is_not_a_database_failure(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=1)
        try:
            pid = await pool.fetchval("SELECT pg_backend_pid()")
            with pytest.raises(asyncpg.DivisionByZeroError):
                await pool.fetchval("SELECT 1 / 0")
            with pytest.raises(asyncpg.UniqueViolationError):
                async with pool.connection() as conn, conn.transaction():
                    await conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)")
            assert await pool.fetchval("SELECT pg_backend_pid()") == pid  # the same connection, reused
        finally:
            await pool.close()

    run(go())


def test_a_killed_backend_is_unavailable_for_a_write_and_retried_for_a_read(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=2)
        admin = await asyncpg.connect(db)
        try:
            async def kill_backends() -> None:
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")

            async with pool.connection() as conn:
                await conn.execute("SELECT 1")
            await kill_backends()
            with pytest.raises(DatabaseUnavailable):
                async with pool.connection() as conn:  # a write is never retried: it may have run
                    await conn.execute("SELECT 1")
            assert await pool.fetchval("SELECT 7") == 7
            await kill_backends()
            assert await pool.fetchval("SELECT 8") == 8  # a read is retried once on a fresh connection
            assert pool.in_use == 0
        finally:
            await admin.close()
            await pool.close()

    run(go())


def test_a_query_over_the_timeout_is_unavailable_and_its_connection_closed(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=1, query_timeout=0.2)
        try:
            with pytest.raises(DatabaseUnavailable):
                async with pool.connection() as conn:
                    await conn.execute("SELECT pg_sleep(3)")
            assert pool.in_use == 0 and await pool.fetchval("SELECT 1") == 1
        finally:
            await pool.close()

    run(go())


def test_when_a_connect_fails_every_waiter_fails_at_once(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=2, acquire_timeout=600)  # a waiter left asleep would outlive the test's bound
        held = [await pool.acquire(), await pool.acquire()]
        try:
            waiters = [asyncio.ensure_future(pool.acquire()) for _ in range(5)]
            await asyncio.sleep(0.1)
            assert pool.waiting == 5
            pool.dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"  # the database went away
            pool.release(held.pop(), broken=True)  # a slot frees up; its waiter's connect fails
            results = await asyncio.gather(*waiters, return_exceptions=True)
            assert all(isinstance(r, DatabaseUnavailable) for r in results), results
            with pytest.raises(DatabaseUnavailable):  # while it is down, nobody queues
                await pool.acquire()
        finally:
            for conn in held:
                pool.release(conn)
            await pool.close()

    run(go())


def test_a_freed_slot_is_never_lost(db: str) -> None:
    async def go() -> None:
        pool = Pool(db, size=1, acquire_timeout=600)
        held = await pool.acquire()
        try:
            waiters = [asyncio.ensure_future(pool.fetchval("SELECT $1::int", i)) for i in range(20)]
            await asyncio.sleep(0.1)
            waiters[0].cancel()  # a waiter that gives up passes on what it was handed
            pool.release(held, broken=True)
            results = await asyncio.gather(*waiters[1:])
            assert results == list(range(1, 20))
        finally:
            await pool.close()

    run(go())


@pytest.mark.parametrize(("exc", "unavailable", "idle"), [
    (asyncpg.exceptions.AdminShutdownError("x"), True, False),
    (asyncpg.exceptions.CannotConnectNowError("x"), True, False),
    (asyncpg.exceptions.ConnectionDoesNotExistError("x"), True, False),
    (asyncpg.exceptions.TooManyConnectionsError("x"), True, False),
    (asyncpg.exceptions.ReadOnlySQLTransactionError("x"), True, False),
    (asyncpg.exceptions.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
     True, False),
    (ConnectionResetError(), True, False),
    (TimeoutError(), True, False),
    (asyncpg.exceptions.DivisionByZeroError("x"), False, True),
    (asyncpg.exceptions.UniqueViolationError("x"), False, True),
    (asyncpg.exceptions._base.DataError("x"), False, False),  # asyncpg refused an argument: a bug, 500
    (ValueError("the handler's own"), False, True),
    (asyncio.CancelledError(), False, False),
])
def test_error_classes(exc: BaseException, unavailable: bool, idle: bool) -> None:
    assert means_unavailable(exc) is unavailable
    assert leaves_connection_idle(exc) is idle
