"""Creating, migrating and swapping the services' PostgreSQL schemas."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

from .loading.context import LoadContext
from .loading.ids import IdSet
from .manifest import Service, ServiceError

VERSIONS = "CREATE TABLE IF NOT EXISTS public.atelier_schema (service text PRIMARY KEY, version integer NOT NULL)"


async def migrate(conn: asyncpg.Connection, services: list[Service],
                  echo: Callable[[str], None] = print) -> list[Service]:
    """Creates the schema of every service that has none yet (empty tables with their indexes) and
    (re)creates the services' functions; brings an older layout up to date where the service has the
    upgrades for it. Returns the services whose tables are of another version than the code's and
    cannot be upgraded: they must be reloaded (their functions are left as they are)."""
    outdated = []
    await conn.execute("SELECT pg_advisory_lock(7412001)")
    try:
        await conn.execute(VERSIONS)
        for service in services:
            exists = await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", service.name)
            version = await conn.fetchval("SELECT version FROM public.atelier_schema WHERE service = $1", service.name)
            if exists and version is not None and version != service.version and not _upgradable(service, version):
                echo(f"schema {service.name} is version {version}, code wants {service.version}: reload it")
                outdated.append(service)
                continue
            async with conn.transaction():
                if exists and version is not None and version < service.version:
                    for step in range(version, service.version):
                        await conn.execute(service.upgrades[step])
                    echo(f"upgraded schema {service.name} from version {version} to {service.version}")
                if not exists:
                    await conn.execute(f"CREATE SCHEMA {service.name}")
                    await _create_tables(conn, service, service.name)
                    for table in service.tables:
                        for sql in table.keys_and_indexes_sql(service.name):
                            await conn.execute(sql)
                    echo(f"created schema {service.name}")
                if version != service.version:
                    await _set_version(conn, service)
                if service.routines:
                    await conn.execute(service.routines)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(7412001)")
    return outdated


def _upgradable(service: Service, version: int) -> bool:
    return version < service.version and all(step in service.upgrades for step in range(version, service.version))


async def _create_tables(conn: asyncpg.Connection, service: Service, schema: str) -> None:
    """The service's tables in `schema`, empty, without keys or indexes."""
    for table in service.tables:
        for sql in table.create_sql(schema):
            await conn.execute(sql)


async def _set_version(conn: asyncpg.Connection, service: Service) -> None:
    await conn.execute(
        "INSERT INTO public.atelier_schema VALUES ($1, $2) ON CONFLICT (service) DO UPDATE SET version = $2",
        service.name, service.version)


async def load_service(conn: asyncpg.Connection, database_url: str, service: Service, data_dir: Path,
                       rejects_dir: Path | None, ids: dict[str, IdSet],
                       echo: Callable[[str], None] = print,
                       on_ids: Callable[[str], None] = lambda name: None) -> LoadContext | None:
    """Loads a service's files into a fresh staging schema, then swaps it in atomically: readers
    see the old data until the swap, and a failed load leaves the live schema untouched."""
    assert service.load is not None
    missing = [f for f in service.files if not (data_dir / f).exists()]
    if missing:
        echo(f"{service.name}: skipped, missing {', '.join(missing)} in {data_dir}")
        return None
    staging = f"{service.name}__load"
    started = time.monotonic()
    await conn.execute(VERSIONS)
    await conn.execute(f"DROP SCHEMA IF EXISTS {staging} CASCADE")
    await conn.execute(f"CREATE SCHEMA {staging}")
    await _create_tables(conn, service, staging)
    ctx = LoadContext(conn, service.name, staging, data_dir, rejects_dir, ids, database_url=database_url, echo=echo,
                      on_ids=on_ids)
    try:
        await _parent_ids(ctx, service)
        await service.load(ctx)
        async with conn.transaction():
            await conn.execute(f"DROP SCHEMA IF EXISTS {service.name} CASCADE")
            await conn.execute(f"ALTER SCHEMA {staging} RENAME TO {service.name}")
            await _set_version(conn, service)
            if service.routines:
                await conn.execute(service.routines)
    except BaseException:
        await conn.execute(f"DROP SCHEMA IF EXISTS {staging} CASCADE")
        raise
    echo(f"{service.name}: loaded and live in {time.monotonic() - started:.1f}s")
    return ctx


async def _parent_ids(ctx: LoadContext, service: Service) -> None:
    """The ids of the other services' tables that the service's files are checked against: from
    this run when it loaded them, else from the database. A table that does not exist is an error
    (its service was never loaded); one that exists but is empty rejects every child as an orphan."""
    for table in service.parent_tables:
        name = str(table)
        if name not in ctx.ids and await ctx.conn.fetchval("SELECT to_regclass($1)", name) is None:
            raise ServiceError(f"{service.name}: no {name} table to check ids against: load {table.schema} first")
        await ctx.parent_ids(name, f"SELECT {table.key} FROM {name}")
