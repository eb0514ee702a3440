"""Getting the database ready for a server, and keeping it so: migrated, then its read path warm.

`atelier serve` migrates before serving when the database answers (and refuses a database whose
tables are of an older layout). When it does not answer, serve starts anyway: every request that
needs the database is a 503 until it arrives. In both cases it starts one `Preparer` process
beside Granian's workers (once per server, not once per worker), which

- migrates, if serve could not, as soon as the database answers;
- warms the read path (core/prewarm.py) whenever the marker says it is cold for this run of
  PostgreSQL: at the first start, and again after PostgreSQL restarted (checked every `POLL`
  seconds), without restarting atelier;
- leaves the marker to say so, which every worker's `GET /health/ready` reads.

Several servers on one database warm it once (an advisory lock; the others find it warm).
`ATELIER_PREWARM`: `auto` (the default) warms when the marker is stale; `always` also warms once
at every start of the server (after the OS dropped its page cache, say); `off` never warms and
marks the read path ready once migrated.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence

import asyncpg

from .core import prewarm
from .core.db import means_unavailable

POLL = 2.0  # seconds between two checks of the marker
CONNECT_TIMEOUT = 3.0


class OutdatedSchema(Exception):
    """The database holds tables of another layout than the code's: reload these services."""

    def __init__(self, services: list[str]) -> None:
        super().__init__(f"reload before serving: atelier load --data DIR --only {' '.join(services)}")
        self.services = services


def read_path() -> list[str]:
    """Every service's tables that the read path touches on every request."""
    from .services import all_services

    return [table for service in all_services() for table in service.prewarm]


async def migrate(database_url: str) -> list[str]:
    """Creates missing schemas; the names of the services whose data must be reloaded."""
    from .core.schema import migrate as run_migrate
    from .services import all_services

    conn = await asyncpg.connect(database_url, timeout=CONNECT_TIMEOUT)
    try:
        return [service.name for service in await run_migrate(conn, all_services(), echo=_say)]
    finally:
        await conn.close()


async def warm_read_path(conn: asyncpg.Connection, mode: str = "auto") -> None:
    """After a load: warms every service's read path and marks it warm (`mode` off: marks it only)."""
    if mode == "off":
        await prewarm.mark(conn)
    else:
        await prewarm.warm(conn, read_path(), echo=_say)


class Preparer:
    def __init__(self, database_url: str, mode: str = "auto") -> None:
        """`mode`: auto, always or off (ATELIER_PREWARM, see above)."""
        self.database_url = database_url
        self.mode = mode
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self) -> None:
        """Migrates now if the database answers (raises OutdatedSchema for a database to reload),
        then starts the background process."""
        try:
            migrated = not asyncio.run(self._migrate_now())
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            _say(f"the database does not answer ({type(exc).__name__}: {exc}); serving 503 until it does")
            migrated = False
        context = multiprocessing.get_context("spawn")  # nothing of this process's state is inherited
        self.process = context.Process(target=_run, name="atelier-preparer", daemon=True,
                                       args=(self.database_url, read_path(), self.mode, migrated, os.getpid()))
        self.process.start()

    async def _migrate_now(self) -> list[str]:
        outdated = await migrate(self.database_url)
        if outdated:
            raise OutdatedSchema(outdated)
        return outdated


def _say(line: str) -> None:
    print(f"atelier: {line}", file=sys.stderr, flush=True)


def _run(database_url: str, tables: Sequence[str], mode: str, migrated: bool, parent: int) -> None:
    """The preparer process: until the server (its parent) is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    asyncio.run(_prepare(database_url, list(tables), mode, migrated, parent))


async def _prepare(database_url: str, tables: list[str], mode: str, migrated: bool, parent: int) -> None:
    warm_at_start = mode == "always"
    while os.getppid() == parent:
        try:
            if not migrated:
                outdated = await migrate(database_url)
                if outdated:  # never ready: the server answers from tables it cannot read
                    _say(str(OutdatedSchema(outdated)))
                    return
                migrated = True
                _say("the database answers: migrated")
            conn = await asyncpg.connect(database_url, timeout=CONNECT_TIMEOUT)
            try:
                while os.getppid() == parent:
                    if warm_at_start or not await prewarm.is_current(conn):
                        if mode == "off":
                            await prewarm.mark(conn)
                        else:
                            await prewarm.warm(conn, tables, echo=_say, only_if_stale=not warm_at_start)
                        warm_at_start = False
                    await asyncio.sleep(POLL)
            finally:
                conn.terminate()
        except Exception as exc:  # this process must outlive any failure: it retries
            if not means_unavailable(exc):
                _say(f"preparing the database failed ({type(exc).__name__}: {exc}); trying again")
            await asyncio.sleep(1.0)
