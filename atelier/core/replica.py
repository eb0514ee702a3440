"""Reads from a streaming replica when that is safe, from the primary otherwise.

`ReplicaReads` is the read pool of an API process that has a replica (`ATELIER_REPLICA_URL`):
its own connections go to the replica, and `primary` (an ordinary `Pool`) takes every read the
replica may not answer. `ReplicaState` decides, from a poll of both servers every `interval`:

- read-your-writes: with `require_sync` (the default) the replica is used only while the primary
  lists it as a synchronous standby (`pg_stat_replication.sync_state = 'sync'`) and commits wait
  for it to apply them (`synchronous_commit = remote_apply`): a 201/204 is then sent only after
  the replica shows the write, so every later read sees it, through any process or cache;
- freshness: the replica has replayed everything the primary had written at most `max_lag`
  seconds ago (the primary's WAL position is sampled at each poll);
- health: the replica answers; a read that fails on it goes to the primary at once, and the
  replica is skipped until a poll finds it well again.
When the primary itself cannot be polled, no write can commit: the replica keeps serving reads
if it had replayed everything of the last sample (reads outlive a primary outage).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from typing import Any

import asyncpg

from .db import DatabaseUnavailable, Pool, _Lease

log = logging.getLogger("atelier.replica")

PRIMARY_POLL = """
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint,
       current_setting('synchronous_commit') = 'remote_apply'
       AND EXISTS (SELECT 1 FROM pg_stat_replication
                   WHERE application_name = $1 AND state = 'streaming' AND sync_state = 'sync')
"""
REPLICA_POLL = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint"
# A standby cancels a read that blocks the replay of a conflicting change: that read goes to the primary.
REPLAY_CONFLICTS = (asyncpg.exceptions.TransactionRollbackError, asyncpg.exceptions.QueryCanceledError)


class ReplicaState:
    def __init__(self, primary_dsn: str, replica_dsn: str, standby_name: str, max_lag: float = 1.0,
                 require_sync: bool = True, interval: float = 0.2) -> None:
        self.primary_dsn = primary_dsn
        self.replica_dsn = replica_dsn
        self.standby_name = standby_name
        self.max_lag = max_lag
        self.require_sync = require_sync
        self.interval = interval
        self.use_replica = False  # until a poll says otherwise
        self.sync = False
        self.lag = math.inf  # seconds behind the primary, as of the last poll
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic time, primary WAL position)
        self._conns: dict[str, asyncpg.Connection] = {}
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def replica_failed(self) -> None:
        """A read failed on the replica: primary only, until the next good poll."""
        self.use_replica = False

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the poller die; the next round tries again
                log.exception("replica poll failed")
                self.use_replica = False
            await asyncio.sleep(self.interval)

    async def _query(self, name: str, dsn: str, query: str, *args: Any) -> Any:
        conn = self._conns.get(name)
        try:
            if conn is None or conn.is_closed():
                conn = self._conns[name] = await asyncpg.connect(dsn, timeout=1.0, statement_cache_size=0)
            return await conn.fetchrow(query, *args, timeout=1.0)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            dead = self._conns.pop(name, None)
            if dead is not None:
                dead.terminate()
            return None

    async def poll(self) -> None:
        now = time.monotonic()
        primary = await self._query("primary", self.primary_dsn, PRIMARY_POLL, self.standby_name)
        if primary is not None:  # sampled before the replica is read: replay >= sample means caught up
            self.sync = bool(primary[1])
            self._samples.append((now, primary[0]))
        while self._samples and self._samples[0][0] < now - self.max_lag - 2 * self.interval - 1:
            if len(self._samples) == 1:
                break
            self._samples.popleft()
        replica = await self._query("replica", self.replica_dsn, REPLICA_POLL)
        if replica is None or replica[0] is None or not self._samples:
            self.lag = math.inf
        elif primary is None:  # no write can commit now: caught up to the last sample is enough
            self.lag = 0.0 if replica[0] >= self._samples[-1][1] else math.inf
        else:
            caught_up = [t for t, lsn in self._samples if lsn <= replica[0]]
            self.lag = now - max(caught_up) if caught_up else math.inf
        self.use_replica = self.lag <= self.max_lag and (self.sync or not self.require_sync)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for conn in self._conns.values():
            conn.terminate()
        self._conns.clear()


class ReplicaReads(Pool):
    """A read pool on the replica that hands what the replica may not answer to `primary`."""

    def __init__(self, replica_dsn: str, primary: Pool, state: ReplicaState, size: int = 8) -> None:
        super().__init__(replica_dsn, size=size)
        self.primary = primary
        self.state = state

    def _on_replica(self) -> bool:
        self.state.ensure_running()
        return self.state.use_replica

    async def _routed(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        if self._on_replica():
            try:
                return await getattr(super(), method)(query, *args)
            except DatabaseUnavailable:
                self.state.replica_failed()
            except REPLAY_CONFLICTS:
                pass  # the replica cancelled the read to replay a change (a load's schema swap)
        return await getattr(self.primary, method)(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._routed("fetchval", query, args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self._routed("fetchrow", query, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return await self._routed("fetch", query, args)

    def connection(self) -> _Lease:
        return super().connection() if self._on_replica() else self.primary.connection()

    async def close(self) -> None:
        await self.state.close()
        await super().close()
        await self.primary.close()
