"""Group commit: many concurrent inserts written by one multi-row INSERT per transaction.

`add(row)` queues a row and returns once the statement holding it has committed (durably:
`query` must see to synchronous_commit, see interactions/queries.py): a caller that gets past `add` may promise the
row is stored. While batches are being written (at most `writers` at once) the next rows queue
up, so batches grow with the load and no timer is needed. If the write fails, every caller of that batch gets the error
(a 503); no row is dropped silently. `close()` writes what is queued (on shutdown).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..core import metrics
from ..core.db import DatabaseUnavailable, Pool
from ..core.http import HTTPError

log = logging.getLogger("atelier.interactions")


class InsertBatcher:
    def __init__(self, pool: Pool, query: str, columns: int, max_batch: int = 2000, writers: int = 2) -> None:
        """`query` takes one array per column ($1..$columns) and inserts their rows."""
        self.pool = pool
        self.query = query
        self.columns = columns
        self.max_batch = max_batch
        self.max_writers = writers
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._running = 0  # writers in _write_pending; counted synchronously, see there
        self._tasks: set[asyncio.Task[None]] = set()

    async def add(self, row: tuple[Any, ...]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        metrics.add_gauge("pending_writes", 1)  # rows accepted and not yet committed (or failed)
        if self._running < self.max_writers:
            self._running += 1
            task = asyncio.ensure_future(self._write_pending())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await future

    async def close(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pending:
            self._running += 1
            await self._write_pending()

    async def _write_pending(self) -> None:
        """Writes batches until nothing is queued. The running count drops with no await between
        the empty check and the decrement, and `add` starts a writer whenever fewer than
        `max_writers` run: no row is ever left queued without a writer."""
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._write(batch)
        finally:
            self._running -= 1

    async def _write(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[None]]]) -> None:
        try:
            await self._insert(batch)
        finally:
            metrics.add_gauge("pending_writes", -len(batch))

    async def _insert(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[None]]]) -> None:
        columns = [[row[i] for row, _ in batch] for i in range(self.columns)]
        try:
            async with self.pool.connection() as conn:  # autocommit: the statement is the transaction
                await conn.execute(self.query, *columns)
        except BaseException as exc:
            if isinstance(exc, (HTTPError, DatabaseUnavailable)):
                error: Exception = exc
            else:
                log.exception("writing %d rows failed", len(batch))
                error = DatabaseUnavailable(f"database error: {type(exc).__name__}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):  # cancelled: the waiters were told, stop
                raise
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
