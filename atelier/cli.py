"""The `atelier` command line: generate, load, migrate, serve, up."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .core.config import Settings

if TYPE_CHECKING:
    from .core.manifest import Service

# Session settings of the load's own connections (its workers set theirs).
LOAD_SETTINGS = "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="atelier", description="The Atelier retail backend.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write legacy-format CSV files")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--scale", type=float, default=0.01, help="1 is full size (1,000,011 products); default 0.01")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--only", nargs="+", metavar="SERVICE", help="products, reviews, qa, cart")
    gen.add_argument("--defect-rate", type=float, default=0.001, help="share of rows with a defect (0: none)")
    gen.add_argument("--bom-crlf", action="store_true", help="also write BOM+CRLF copies under OUT/bom-crlf/")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")

    load = sub.add_parser("load", help="create or migrate the schema and load legacy CSV files")
    load.add_argument("--data", type=Path, required=True)
    load.add_argument("--rejects", type=Path, help="folder for reject files (default: DATA/rejects)")
    load.add_argument("--only", nargs="+", metavar="SERVICE")
    _database_flag(load)

    mig = sub.add_parser("migrate", help="create the schema of every service that has none")
    _database_flag(mig)

    serve = sub.add_parser("serve", help="serve the API")
    _serve_flags(serve)

    up_parser = sub.add_parser("up", help="embedded default: database, data and server in one command")
    _serve_flags(up_parser)
    up_parser.add_argument("--scale", type=float, default=0.01, help="scale of the data set generated when empty")
    up_parser.add_argument("--seed", type=int, default=1)

    try:
        from .loadtest.cli import add_parser as add_loadtest
    except ImportError:
        add_loadtest = None
    if add_loadtest is not None:
        add_loadtest(sub)

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for name in ("database_url", "host", "port", "workers", "pool_size", "write_pool_size"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)
    from .core.manifest import ServiceError

    try:
        _run(args, settings)
    except ServiceError as exc:
        raise SystemExit(str(exc)) from None


def _run(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "generate":
        generate(args)
    elif args.command == "load":
        asyncio.run(load_data(_require_db(settings), args.data, args.rejects or args.data / "rejects", args.only))
    elif args.command == "migrate":
        asyncio.run(migrate(_require_db(settings)))
    elif args.command == "serve":
        _require_db(settings)
        outdated = asyncio.run(migrate(settings.database_url))
        if outdated:  # its queries would fail on every request
            raise SystemExit(f"reload before serving: atelier load --data DIR --only {' '.join(outdated)}")
        from .server import serve as run_server

        run_server(settings, args.interface)
    elif args.command == "up":
        up(settings, args)
    elif hasattr(args, "run"):
        args.run(args, settings)


def _database_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", dest="database_url", help="PostgreSQL URL (default: $DATABASE_URL)")


def _serve_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--pool-size", dest="pool_size", type=int, help="read connections per worker (default 8)")
    p.add_argument("--write-pool-size", dest="write_pool_size", type=int,
                   help="write connections per worker (default 4)")
    p.add_argument("--interface", choices=("rsgi", "asgi"), default="rsgi")
    _database_flag(p)


def _require_db(settings: Settings) -> str:
    if not settings.database_url:
        raise SystemExit("no database: set DATABASE_URL or pass --database-url (or use `atelier up`)")
    return settings.database_url


def generate(args: argparse.Namespace) -> None:
    from .core.generating import GenerateOptions, Progress
    from .services import by_names

    options = GenerateOptions(out=args.out, scale=args.scale, seed=args.seed, defect_rate=args.defect_rate,
                              bom_crlf=args.bom_crlf, progress=Progress(enabled=not args.quiet))
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for service in by_names(args.only):
        if service.generate is not None:
            service.generate(options)
    print(f"generated {options.products:,} products' data in {args.out} in {time.monotonic() - started:.1f}s",
          file=sys.stderr)


async def migrate(database_url: str) -> list[str]:
    """Creates missing schemas; the names of the services whose data must be reloaded."""
    import asyncpg

    from .core.schema import migrate as run_migrate
    from .services import all_services

    conn = await asyncpg.connect(database_url)
    try:
        return [service.name for service in await run_migrate(conn, all_services())]
    finally:
        await conn.close()


async def load_data(database_url: str, data: Path, rejects: Path | None, only: list[str] | None) -> None:
    """Loads the services asked for, each as soon as the ids it checks against are in: products
    alone, then reviews, Q&A and cart side by side while products builds its documents."""
    import asyncpg

    from .core.manifest import dependency_levels
    from .core.schema import migrate as run_migrate
    from .services import all_services, by_names

    if not data.is_dir():
        raise SystemExit(f"no such folder: {data}")
    started = time.monotonic()
    ordered = [s for level in dependency_levels(by_names(only)) for s in level if s.load is not None]
    run = _LoadRun(database_url, data, rejects, ordered)
    try:
        async with asyncio.TaskGroup() as group:  # a failed service cancels the others
            for service in run.services:
                group.create_task(run.load(service))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    conn = await asyncpg.connect(database_url)
    try:
        await run_migrate(conn, all_services())
    finally:
        await conn.close()
    # PREWARM CALL SITE (issue 15): the read path should be warm when the load finishes. The
    # `resilience` engineer's prewarm function is not on main yet; call it here once it is.
    read, loaded, rejected = run.totals
    print(f"total: read {read:,}  loaded {loaded:,}  rejected {rejected:,}"
          f"  in {time.monotonic() - started:.1f}s" + (f"  (rejects in {rejects})" if rejected else ""))


class _LoadRun:
    """One `atelier load`: every service on connections of its own, each starting when the files
    of the tables it checks ids against (loaded in this run) are in."""

    def __init__(self, database_url: str, data: Path, rejects: Path | None, services: list[Service]) -> None:
        self.database_url, self.data, self.rejects, self.services = database_url, data, rejects, services
        self.ids: dict = {}
        self.totals = [0, 0, 0]
        asked = {s.name for s in services}
        self.files_in = {str(t): asyncio.Event() for s in services for t in s.tables if t.file is not None}
        self.waits = {s.name: [self.files_in[str(t)] for t in s.parent_tables if t.schema in asked]
                      for s in services}

    async def load(self, service: Service) -> None:
        import asyncpg

        from .core.schema import load_service

        for event in self.waits[service.name]:
            await event.wait()
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute(LOAD_SETTINGS)
            ctx = await load_service(conn, self.database_url, service, self.data, self.rejects, self.ids,
                                     on_ids=self._files_in)
        finally:
            await conn.close()
        for table in service.tables:  # all in, or skipped for missing files: nobody waits for them
            self._files_in(str(table))
        for r in ctx.reports if ctx is not None else []:
            self.totals[0] += r.read
            self.totals[1] += r.loaded
            self.totals[2] += r.rejected

    def _files_in(self, name: str) -> None:
        if name in self.files_in:
            self.files_in[name].set()


def up(settings: Settings, args: argparse.Namespace) -> None:
    """The embedded default: PostgreSQL from a wheel, a generated data set when empty, the server."""
    embedded = None
    if not settings.database_url:
        from .core.embedded import EmbeddedPostgres

        embedded = EmbeddedPostgres(settings.home)
        settings.database_url = embedded.start()
        print(f"embedded PostgreSQL running: DATABASE_URL={settings.database_url}", file=sys.stderr)
    try:
        asyncio.run(_prepare(settings, args))
        from .server import serve as run_server

        print(f"serving on http://{settings.host}:{settings.port} (Ctrl-C stops)", file=sys.stderr)
        run_server(settings, args.interface)
    except KeyboardInterrupt:
        pass
    finally:
        if embedded is not None:
            embedded.stop()
            print("embedded PostgreSQL stopped", file=sys.stderr)


async def _prepare(settings: Settings, args: argparse.Namespace) -> None:
    import asyncpg

    from .products.tables import DOCUMENT

    assert settings.database_url
    outdated = await migrate(settings.database_url)
    conn = await asyncpg.connect(settings.database_url)
    try:
        empty = not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {DOCUMENT})")
    finally:
        await conn.close()
    if not empty and not outdated:
        print("database has data: serving it", file=sys.stderr)
        return
    data = settings.home / f"data-{args.scale:g}-{args.seed}"
    if not (data / "product.csv").exists():
        gen_args = argparse.Namespace(out=data, scale=args.scale, seed=args.seed, only=None, defect_rate=0.001,
                                      bom_crlf=False, quiet=False)
        generate(gen_args)
    if not empty:
        print(f"reloading {', '.join(outdated)}: stored with an older layout", file=sys.stderr)
    await load_data(settings.database_url, data, data / "rejects", None if empty else outdated)
