"""What a service (products, reviews, qa, cart, interactions) gives the rest of the system."""

from __future__ import annotations

import asyncio
import importlib
import os
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

import asyncpg

from .generating import GenerateOptions
from .http import Router
from .loading import FileReport, FileSpec, IdSet, load_file


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

    # below this many bytes, files load one after the other in this process
    CONCURRENT_BYTES = int(os.environ.get("ATELIER_LOAD_CONCURRENT_BYTES", 64 << 20))

    async def load(self, spec: FileSpec) -> FileReport:
        report = await load_file(self.conn, self.schema, spec, self.data_dir / spec.file, self.rejects_dir,
                                 self.ids, f"{self.service}.{spec.table}")
        self.reports.append(report)
        self.echo(report.line())
        return report

    async def load_concurrently(self, specs: list[FileSpec], processes: int = 2) -> list[FileReport]:
        """Loads independent files at once, each in a process of its own with its own connection
        (parsing is CPU-bound Python; PostgreSQL's COPY runs beside it). Largest files first."""
        loop = asyncio.get_running_loop()
        sizes = {spec.file: (self.data_dir / spec.file).stat().st_size for spec in specs}
        if sum(sizes.values()) < self.CONCURRENT_BYTES:  # not worth starting processes
            return [await self.load(spec) for spec in specs]
        specs = sorted(specs, key=lambda spec: -sizes[spec.file])
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [
                loop.run_in_executor(pool, _load_in_process, self.database_url, self.schema, spec,
                                     self.data_dir / spec.file, self.rejects_dir, self.ids, f"{self.service}.{spec.table}")
                for spec in specs
            ]
            reports = []
            for spec, future in zip(specs, futures):
                report, ids = await future
                self.ids[f"{self.service}.{spec.table}"] = ids
                self.reports.append(report)
                self.echo(report.line())
                reports.append(report)
        return reports

    async def parent_ids(self, name: str, query: str) -> IdSet:
        """Ids of another service's table: from this run if it loaded them, else from the database."""
        if name not in self.ids:
            self.ids[name] = await IdSet.from_query(self.conn, query)
        return self.ids[name]

    async def step(self, label: str, sql: str) -> None:
        """A timed SQL step of the load (indexes, precomputed documents)."""
        started = time.monotonic()
        await self.conn.execute(sql)
        self.echo(f"  {label:<40} {time.monotonic() - started:7.1f}s")

    async def parallel_step(self, label: str, statements: list[str], connections: int = 2) -> None:
        """Timed SQL statements run on `connections` connections at once (each in autocommit:
        the staging schema is invisible to readers until the swap, so partial work is harmless)."""
        started = time.monotonic()
        queue = list(reversed(statements))

        async def worker() -> None:
            conn = await asyncpg.connect(self.database_url)
            try:
                await conn.execute("SET work_mem = '256MB'; SET synchronous_commit = off")
                while queue:
                    await conn.execute(queue.pop())
            finally:
                await conn.close()

        await asyncio.gather(*(worker() for _ in range(max(1, connections))))
        self.echo(f"  {label:<40} {time.monotonic() - started:7.1f}s")


def _load_in_process(database_url: str, schema: str, spec: FileSpec, path: Path, rejects_dir: Path | None,
                     ids: dict[str, IdSet], ids_name: str) -> tuple[FileReport, IdSet]:
    async def go() -> FileReport:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("SET synchronous_commit = off")
            return await load_file(conn, schema, spec, path, rejects_dir, ids, ids_name)
        finally:
            await conn.close()

    report = asyncio.run(go())
    return report, ids.get(ids_name, IdSet())


def lazy_generator(module: str) -> Callable[[GenerateOptions], list[Path]]:
    """The `generate` of `module`, imported on first use: only `atelier generate` needs it."""

    def generate(options: GenerateOptions) -> list[Path]:
        return importlib.import_module(module).generate(options)

    return generate


@dataclass
class Service:
    name: str  # also its PostgreSQL schema
    router: Router
    create_tables: Callable[[asyncpg.Connection, str], Awaitable[None]]  # empty tables, no indexes
    create_indexes: Callable[[asyncpg.Connection, str], Awaitable[None]]
    files: tuple[str, ...] = ()
    load: Callable[[LoadContext], Awaitable[None]] | None = None
    generate: Callable[[GenerateOptions], list[Path]] | None = None
    version: int = 1  # of the tables' layout: a database with another version must be reloaded
    routines: str = ""  # SQL (CREATE OR REPLACE FUNCTION ...) run on the live schema by migrate and load
