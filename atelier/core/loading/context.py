"""One `atelier load` run: the staging schema a service loads into, and the processes that load
files side by side."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from .ids import IdSet
from .memory import keep_freed_memory
from .spec import FileSpec
from .stream import FileReport, load_file

# COPY connections per file loaded in a process of its own. One: a COPY FREEZE in the transaction
# that empties the table (stream.load_file), whose pages need no second write when first read.
# Two spread PostgreSQL's parsing of one file over two cores, but cannot freeze; at full scale the
# services load side by side and every core is busy anyway (docs/loadspeed.md has the figures).
COPY_CONNECTIONS = int(os.environ.get("ATELIER_LOAD_COPY_CONNECTIONS", 1))

# Sessions of the parallel steps (documents, indexes). The builds are a few big statements, each
# compiled by JIT in about 0.1 s for nothing (every range pays it again); documents longer than
# about 2 kB are compressed, by lz4 (several times faster than pglz, as fast to read back).
BUILD_SETTINGS = "SET work_mem = '256MB'; SET synchronous_commit = off; SET jit = off"
LZ4_AVAILABLE = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


async def prepare_build_session(conn: asyncpg.Connection) -> None:
    """The settings of a session that runs the big build statements (documents, indexes)."""
    await conn.execute(BUILD_SETTINGS)
    if await conn.fetchval(LZ4_AVAILABLE):
        await conn.execute("SET default_toast_compression = lz4")


@dataclass
class LoadContext:
    """One `atelier load` run: the staging schema a service loads into and what it shares."""

    conn: asyncpg.Connection
    service: str  # the live schema name (products, reviews, ...)
    schema: str  # the staging schema being filled (swapped in when the load succeeds)
    data_dir: Path
    rejects_dir: Path | None
    ids: dict[str, IdSet]  # "service.table" -> ids loaded in this run
    database_url: str = ""  # for work a service spreads over several connections
    reports: list[FileReport] = field(default_factory=list)
    echo: Callable[[str], None] = print
    on_ids: Callable[[str], None] = lambda name: None  # a file's ids are complete: "service.table"

    # below this many bytes, files load one after the other in this process
    CONCURRENT_BYTES = int(os.environ.get("ATELIER_LOAD_CONCURRENT_BYTES", 64 << 20))

    async def load(self, spec: FileSpec) -> FileReport:
        report = await load_file(self.conn, self.schema, spec, self.data_dir / spec.file, self.rejects_dir,
                                 self.ids, self._ids_name(spec))
        self.reports.append(report)
        self.echo(report.line())
        self.on_ids(self._ids_name(spec))
        return report

    async def load_concurrently(self, specs: list[FileSpec], processes: int = 2) -> list[FileReport]:
        """Loads independent files at once, each in a process of its own with its own connection
        (parsing is CPU-bound Python; PostgreSQL's COPY runs beside it). Largest files first."""
        if self._total_bytes(specs) < self.CONCURRENT_BYTES:  # not worth starting processes
            return [await self.load(spec) for spec in specs]
        specs = sorted(specs, key=lambda spec: -(self.data_dir / spec.file).stat().st_size)
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            return await self._run_in(pool, _load_in_process, specs, self.ids)

    async def load_in_order(self, specs: list[FileSpec], on_loaded: Callable[[FileSpec], Awaitable[None]]) -> None:
        """Loads files that are parents and children of each other (parents first in `specs`) one
        after the other, so that every row is checked against complete parents. `on_loaded` runs
        for each file once it is loaded (for example its indexes, on a side connection) while the
        next one loads."""
        for spec in specs:
            await self.load_concurrently([spec])
            await on_loaded(spec)

    async def _run_in(self, pool: ProcessPoolExecutor, load: Callable[..., tuple[FileReport, IdSet]],
                      specs: list[FileSpec], ids: dict[str, IdSet],
                      on_loaded: Callable[[FileSpec], Awaitable[None]] | None = None) -> list[FileReport]:
        """Runs `load` for every spec in `pool`; records the reports and ids in `specs` order."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(pool, load, self.database_url, self.schema, spec, self.data_dir / spec.file,
                                        self.rejects_dir, ids, self._ids_name(spec))
                   for spec in specs]
        reports = []
        for spec, future in zip(specs, futures):
            report, loaded_ids = await future
            self.ids[self._ids_name(spec)] = loaded_ids
            self.reports.append(report)
            self.echo(report.line())
            self.on_ids(self._ids_name(spec))
            reports.append(report)
            if on_loaded is not None:
                await on_loaded(spec)
        return reports

    def _total_bytes(self, specs: list[FileSpec]) -> int:
        return sum((self.data_dir / spec.file).stat().st_size for spec in specs)

    def _ids_name(self, spec: FileSpec) -> str:
        return f"{self.service}.{spec.table}"

    async def parent_ids(self, name: str, query: str) -> IdSet:
        """Ids of another service's table: from this run if it loaded them, else from the database."""
        if name not in self.ids:
            self.ids[name] = await IdSet.from_query(self.conn, query)
        return self.ids[name]

    async def slices(self, table: str, column: str, parts: int = 16) -> list[tuple[int, int]]:
        """[lo, hi) slices of about equal width that cover every value of `table.column` (ids are
        nearly dense, so about equal numbers of rows): a build over them runs on several
        connections at once (`parallel_step`); an empty table has none."""
        low, high = await self.conn.fetchrow(f"SELECT min({column}), max({column}) FROM {table}")
        if low is None:
            return []
        step = max(1, (high - low + parts) // parts)
        edges = [*range(low, high + 1, step), high + 1]
        return list(zip(edges, edges[1:]))

    async def sliced(self, template: str, table: str, column: str, parts: int = 16) -> list[str]:
        """`template`, SQL over the values [{lo}, {hi}) of `table.column` in schema {s}, once per slice."""
        return [template.replace("{s}", self.schema).replace("{lo}", str(lo)).replace("{hi}", str(hi))
                for lo, hi in await self.slices(table, column, parts)]

    async def step(self, label: str, sql: str) -> None:
        """A timed SQL step of the load (indexes, precomputed documents)."""
        started = time.monotonic()
        await self.conn.execute(sql)
        self.echo(f"  {self.service + ': ' + label:<48} {time.monotonic() - started:7.1f}s")

    async def parallel_step(self, label: str, statements: list[str], connections: int = 2) -> None:
        """Timed SQL statements run on `connections` connections at once (each in autocommit:
        the staging schema is invisible to readers until the swap, so partial work is harmless)."""
        started = time.monotonic()
        queue = list(reversed(statements))

        async def worker() -> None:
            conn = await asyncpg.connect(self.database_url)
            try:
                await prepare_build_session(conn)
                while queue:
                    await conn.execute(queue.pop())
            finally:
                await conn.close()

        await asyncio.gather(*(worker() for _ in range(max(1, connections))))
        self.echo(f"  {self.service + ': ' + label:<48} {time.monotonic() - started:7.1f}s")


def _load_in_process(database_url: str, schema: str, spec: FileSpec, path: Path, rejects_dir: Path | None,
                     ids: dict[str, IdSet], ids_name: str) -> tuple[FileReport, IdSet]:
    async def go() -> FileReport:
        conns = [await asyncpg.connect(database_url) for _ in range(COPY_CONNECTIONS)]
        try:
            for conn in conns:
                await conn.execute("SET synchronous_commit = off")
            return await load_file(conns, schema, spec, path, rejects_dir, ids, ids_name)
        finally:
            for conn in conns:
                await conn.close()

    keep_freed_memory()
    report = asyncio.run(go())
    return report, ids.get(ids_name, IdSet())
