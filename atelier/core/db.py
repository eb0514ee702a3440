"""A minimal asyncpg connection pool.

asyncpg's stock pool runs a reset query on every release, which halves the throughput of a
one-query request. This pool hands out idle connections as they are, opens new ones up to
`size`, and turns every failure of the database (down, restarting, unreachable, out of
connections) into `DatabaseUnavailable`, quickly: connects time out after `connect_timeout`, and
for `retry_after` seconds after a failed connect requests fail at once instead of piling up.
A connection goes back to the idle list only when it is known to be idle: after a clean exit or
an error the server reported for the query. Anything else (a cancelled or timed-out query, a
protocol or socket error) leaves its state unknown and the connection is closed, so no request
ever inherits half of another's exchange. Service recovers by itself when the database returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import asyncpg


class DatabaseUnavailable(Exception):
    """The database cannot serve this request now; the application answers 503. The message says
    why, for the logs; it is never sent to clients."""


# SQLSTATE classes that mean "the server cannot do this now", not "the query is wrong":
# connection exception, transaction rollback (serialization, deadlock), insufficient resources,
# object not in prerequisite state (lock not available), operator intervention (shutdown, crash,
# cancel, starting up), system error (I/O), configuration file error, internal error.
UNAVAILABLE_CLASSES = frozenset({"08", "40", "53", "55", "57", "58", "F0", "XX"})
UNAVAILABLE_STATES = frozenset({
    "25006",  # read-only transaction: the server is a standby now
    "3F000", "42P01", "42883",  # no such schema, table or function: the schema is not there (yet)
})


# Errors raised on our side of the connection: the socket failed, a query timed out, or the
# protocol is in a state asyncpg did not expect ("cannot switch to state 12; another operation (2)
# is in progress"). After any of them the connection's state is unknown.
CLIENT_SIDE = (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.InternalClientError)


def means_unavailable(exc: BaseException) -> bool:
    """True for errors of the connection or of the server's state; False for a query's own error
    (a constraint, a bad cast: the handler's business), for a value asyncpg cannot encode (a bug)
    and for everything that is not an error of the database (cancellation included)."""
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        return state[:2] in UNAVAILABLE_CLASSES or state in UNAVAILABLE_STATES
    if isinstance(exc, asyncpg.InterfaceError) and isinstance(exc, ValueError):
        return False  # asyncpg refused the arguments before sending anything
    return isinstance(exc, CLIENT_SIDE)


def leaves_connection_idle(exc: BaseException | None) -> bool:
    """True when the connection is between two exchanges after `exc` ended its use: no exception,
    an error the server reported for a query (asyncpg raises it once the server is ready for the
    next one), or an exception of the caller's own code. A cancellation may stop a query midway,
    and after a client-side error the protocol's state is unknown."""
    if exc is None:
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return not means_unavailable(exc)
    return isinstance(exc, Exception) and not isinstance(exc, CLIENT_SIDE)


class Pool:
    def __init__(
        self,
        dsn: str,
        size: int = 8,
        connect_timeout: float = 2.0,
        acquire_timeout: float = 5.0,
        retry_after: float = 0.5,
        query_timeout: float | None = 10.0,
        setup: Any = None,
    ) -> None:
        self.dsn = dsn
        self.size = size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self.retry_after = retry_after
        self.query_timeout = query_timeout  # a query running longer fails (503) and its connection is closed
        self.setup = setup  # async callable(conn), run once per new connection
        self._idle: list[asyncpg.Connection] = []
        # Requests waiting for a connection. A waiter's future gets a connection, None (a slot is
        # free: open a connection) or DatabaseUnavailable (a connect just failed: so would yours).
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0
        self._failed_at = -retry_after
        self.waiting = 0

    @property
    def in_use(self) -> int:
        return self._open - len(self._idle)

    def connection(self) -> _Lease:
        return _Lease(self)

    def _down(self) -> bool:
        """A connect failed less than `retry_after` ago: the database is taken to be down."""
        return time.monotonic() - self._failed_at < self.retry_after

    async def acquire(self) -> asyncpg.Connection:
        deadline = time.monotonic() + self.acquire_timeout
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self.size:
                return await self._connect()
            if self._down():  # waiting would end in the same failure, later
                raise DatabaseUnavailable("the database is down: not waiting for a connection")
            conn = await self._wait(deadline)
            if conn is not None:
                return conn
            # a slot was freed for us: loop to open a connection in it (or take an idle one)

    async def _wait(self, deadline: float) -> asyncpg.Connection | None:
        fut: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self.waiting += 1
        try:
            return await asyncio.wait_for(fut, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise DatabaseUnavailable("no connection free within the acquire timeout") from None
        except asyncio.CancelledError:
            self._pass_on(fut)
            raise
        finally:
            self.waiting -= 1

    def _pass_on(self, fut: asyncio.Future[asyncpg.Connection | None]) -> None:
        """A waiter was cancelled: what was handed to it, if anything, goes to the next one."""
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            conn = fut.result()
            if conn is None:
                self._hand_slot()
            else:
                self.release(conn)

    async def _connect(self) -> asyncpg.Connection:
        if self._down():
            raise DatabaseUnavailable("a connect failed less than retry_after ago")
        self._open += 1
        conn = None
        try:
            conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout, statement_cache_size=256,
                                         command_timeout=self.query_timeout)
            if self.setup is not None:
                await self.setup(conn)
        except BaseException as exc:
            self._open -= 1
            if conn is not None:
                conn.terminate()
            if isinstance(exc, asyncpg.PostgresError) or means_unavailable(exc):
                error = DatabaseUnavailable(f"connect failed: {type(exc).__name__}: {exc}")
                self._mark_down(error)
                raise error from exc
            self._hand_slot()
            raise
        return conn

    def _mark_down(self, error: DatabaseUnavailable) -> None:
        """A connect failed: fail fast for `retry_after` seconds, starting with every waiter."""
        self._failed_at = time.monotonic()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(DatabaseUnavailable(str(error)))

    def release(self, conn: asyncpg.Connection, broken: bool = False) -> None:
        if broken or conn.is_closed() or conn.is_in_transaction():
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

    def _finish(self, conn: asyncpg.Connection, exc: BaseException | None) -> None:
        """Returns `conn` after a use that ended with `exc` (None: success)."""
        if leaves_connection_idle(exc):
            self.release(conn)
            return
        self.release(conn, broken=True)
        if exc is not None and means_unavailable(exc):
            self.drop_idle()

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
            except BaseException as exc:
                self._finish(conn, exc)
                if not means_unavailable(exc):
                    raise
                if attempt:
                    raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
                continue
            self.release(conn)
            return result
        raise AssertionError("not reached")


class _Lease:
    """`async with pool.connection() as conn:` (a transaction is the caller's business)."""

    __slots__ = ("conn", "pool")

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self.conn = await self.pool.acquire()
        return self.conn

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        assert self.conn is not None
        self.pool._finish(self.conn, exc)
        if exc is not None and means_unavailable(exc):
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc
