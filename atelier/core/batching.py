"""Coalescing concurrent primary-key reads into one query (the DataLoader pattern).

Under load many requests want one document each at the same moment. Instead of one round trip
per request, `KeyedReader.get(key)` queues the key; a batch is sent as soon as fewer than
`max_in_flight` batches are running, as `... WHERE key = ANY($1)`. When the database keeps up,
batches have one key and nothing changes; when it does not, the keys that wait form the next
batch, so the number of round trips adapts to the load. Every reader still sees committed data:
a batch is an ordinary query, started after the request arrived.

By default each reader runs one batch at a time (ATELIER_BATCH_IN_FLIGHT raises it, for a
database with many cores of its own): the keys that arrive meanwhile make the next batch bigger,
and a bigger batch costs the database less per key than several small ones running side by side.
Measured side by side at full scale (bench/batch_in_flight.py), one batch at a time served 1.32x
the pages of reviews per second of seven (the earlier default) with a lower p99.

A late batch does not hold the others up. A batch is late when it has run `LATE_FACTOR` times
longer than this reader's typical batch (at least `LATE_FLOOR`): one stuck on a slow disk read
or behind a busy database's queue. It then stops counting against the cap, so the keys that
arrived meanwhile go out in a batch of their own on another connection instead of waiting for
it; at most `max_late` batches of a reader are late at once, so a stalled database cannot take
every connection. A database that is uniformly slower raises the typical time with it, and the
reader stays at one batch at a time, where it is cheapest.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from . import metrics
from .db import Pool

BATCHING = os.environ.get("ATELIER_BATCH", "1") != "0"
IN_FLIGHT = int(os.environ.get("ATELIER_BATCH_IN_FLIGHT", "1"))  # batches running at once per reader
LATE = os.environ.get("ATELIER_BATCH_LATE", "1") != "0"  # 0: a late batch holds the others (to measure)
LATE_FACTOR = 4.0  # a batch this many times slower than the typical one is late
LATE_FLOOR = 0.005  # seconds: never late before this
TYPICAL_WEIGHT = 0.05  # of each batch's time in the moving typical time


class KeyedReader:
    def __init__(self, pool: Pool, query: str, single_query: str, max_in_flight: int | None = None,
                 max_batch: int = 512, max_late: int | None = None) -> None:
        """`query` takes an int[] and returns (key, value) rows; `single_query` takes one key and
        returns the value (used when batching is off, for comparison)."""
        self.pool = pool
        self.query = query
        self.single_query = single_query
        self.max_in_flight = max(1, min(max_in_flight or IN_FLIGHT, pool.size - 1))
        self.max_batch = max_batch
        self.max_late = max_late if max_late is not None else max(1, pool.size // 2 - 1)
        self.typical = LATE_FLOOR / LATE_FACTOR  # seconds a batch takes, moving average
        self._pending: dict[int, list[asyncio.Future[Any]]] = {}
        self._on_time = 0  # batches running and not late: at most max_in_flight
        self._late = 0  # batches running and late: at most max_late
        self.late_batches = 0  # batches that were late, since the start
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def late_after(self) -> float:
        return max(LATE_FLOOR, LATE_FACTOR * self.typical)

    async def get(self, key: int) -> Any:
        if not BATCHING:
            return await self.pool.fetchval(self.single_query, key)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        waiters = self._pending.get(key)
        if waiters is None:
            self._pending[key] = [future]
        else:
            waiters.append(future)
        if not self._scheduled and self._may_start():
            self._scheduled = True
            loop.call_soon(self._dispatch)
        return await future

    def _may_start(self) -> bool:
        """Fewer than max_in_flight batches on time, and one connection left for unbatched queries."""
        return self._on_time < self.max_in_flight and self._on_time + self._late < self.pool.size - 1

    def _dispatch(self) -> None:
        self._scheduled = False
        while self._pending and self._may_start():
            if len(self._pending) <= self.max_batch:
                batch, self._pending = self._pending, {}
            else:
                keys = list(self._pending)[: self.max_batch]
                batch = {k: self._pending.pop(k) for k in keys}
            self._on_time += 1
            task = asyncio.ensure_future(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: dict[int, list[asyncio.Future[Any]]]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        lateness = _Lateness()
        timer = loop.call_later(self.late_after, self._became_late, lateness) if LATE else None
        try:
            rows = await self.pool.fetch(self.query, list(batch))
        except BaseException as exc:  # every waiter gets the error (a 503 when the database is down)
            for waiters in batch.values():
                for f in waiters:
                    if not f.done():
                        f.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            found = dict(rows)
            for key, waiters in batch.items():
                value = found.get(key)
                for f in waiters:
                    if not f.done():
                        f.set_result(value)
        finally:
            if timer is not None:
                timer.cancel()
            if lateness.late:
                self._late -= 1
            else:
                self._on_time -= 1
            elapsed = min(loop.time() - started, self.late_after)  # one stuck batch moves it little
            self.typical += TYPICAL_WEIGHT * (elapsed - self.typical)
            if self._pending and not self._scheduled:
                self._dispatch()

    def _became_late(self, lateness: _Lateness) -> None:
        """A running batch is late: it no longer holds the next one back (while few enough are late)."""
        if self._late >= self.max_late:
            return  # it keeps its place among the on-time ones
        lateness.late = True
        self._on_time -= 1
        self._late += 1
        self.late_batches += 1
        metrics.count("late_read_batches")
        if self._pending and not self._scheduled:
            self._dispatch()


class _Lateness:
    __slots__ = ("late",)

    def __init__(self) -> None:
        self.late = False
