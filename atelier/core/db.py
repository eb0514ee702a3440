"""A minimal asyncpg connection pool.

asyncpg's stock pool runs a reset query on every release, which halves the throughput of a
one-query request. This pool hands out idle connections as they are, opens new ones up to
`size`, and turns every connection-level failure into `DatabaseUnavailable` (a 503), quickly:
connects time out after `connect_timeout`, and for `retry_after` seconds after a failed connect
requests fail at once instead of piling up. Broken connections are dropped, so service recovers
by itself when the database returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import asyncpg

from .http import HTTPError

# Errors that say "the connection or the server is gone", not "the query is wrong".
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
)


class DatabaseUnavailable(HTTPError):
    def __init__(self, reason: str = "database unavailable"):
        super().__init__(503, reason, as_json=True)


class Pool:
    def __init__(
        self,
        dsn: str,
        size: int = 8,
        connect_timeout: float = 2.0,
        acquire_timeout: float = 5.0,
        retry_after: float = 0.5,
        setup: Any = None,
    ) -> None:
        self.dsn = dsn
        self.size = size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self.retry_after = retry_after
        self.setup = setup  # async callable(conn), run once per new connection
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0
        self._failed_at = 0.0
        self.waiting = 0

    @property
    def in_use(self) -> int:
        return self._open - len(self._idle)

    def connection(self) -> _Lease:
        return _Lease(self)

    async def acquire(self) -> asyncpg.Connection:
        if self._idle:
            return self._idle.pop()
        if self._open < self.size:
            return await self._connect()
        fut: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self.waiting += 1
        try:
            conn = await asyncio.wait_for(fut, self.acquire_timeout)
        except TimeoutError:
            raise DatabaseUnavailable("database busy: no connection within the acquire timeout") from None
        finally:
            self.waiting -= 1
        if conn is None:  # a slot was freed by a dropped connection: open a new one
            return await self._connect()
        return conn

    async def _connect(self) -> asyncpg.Connection:
        if time.monotonic() - self._failed_at < self.retry_after:
            raise DatabaseUnavailable()
        self._open += 1
        try:
            conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout, statement_cache_size=256)
            if self.setup is not None:
                await self.setup(conn)
        except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
            self._open -= 1
            self._failed_at = time.monotonic()
            self._hand_slot()
            raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from None
        return conn

    def release(self, conn: asyncpg.Connection, broken: bool = False) -> None:
        if broken or conn.is_closed():
            self._open -= 1
            if not conn.is_closed():
                conn.terminate()
            self._hand_slot()
            return
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return
        self._idle.append(conn)

    def _hand_slot(self) -> None:
        """A connection slot became free: let one waiter open a connection of its own."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def drop_idle(self) -> None:
        """After a connection error every idle connection is suspect (the server restarted)."""
        while self._idle:
            conn = self._idle.pop()
            self._open -= 1
            conn.terminate()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            self._open -= 1
            try:
                await asyncio.wait_for(conn.close(), 1.0)
            except Exception:
                conn.terminate()

    # One-shot helpers. Reads are retried once on a fresh connection after a connection error,
    # so the first request after a database restart does not fail; writes never are.

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._read("fetchval", query, args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self._read("fetchrow", query, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return await self._read("fetch", query, args)

    async def _read(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        for attempt in (0, 1):
            conn = await self.acquire()
            try:
                result = await getattr(conn, method)(query, *args)
            except CONNECTION_ERRORS:
                self.release(conn, broken=True)
                self.drop_idle()
                if attempt:
                    raise DatabaseUnavailable() from None
                continue
            except asyncpg.PostgresError:
                self.release(conn)
                raise
            except BaseException:  # cancelled mid-query: the connection's state is unknown
                self.release(conn, broken=True)
                raise
            self.release(conn)
            return result
        raise DatabaseUnavailable()  # not reached


class _Lease:
    """`async with pool.connection() as conn:` (a transaction is the caller's business)."""

    __slots__ = ("conn", "pool")

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        conn = self.conn
        assert conn is not None
        if exc_type is None:
            self.pool.release(conn)
            return False
        broken = isinstance(exc, CONNECTION_ERRORS) or conn.is_in_transaction()
        self.pool.release(conn, broken=broken)
        if isinstance(exc, CONNECTION_ERRORS):
            self.pool.drop_idle()
            raise DatabaseUnavailable() from exc
        return False
