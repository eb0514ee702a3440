"""The `atelier` command line: generate, load, migrate, serve, up."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from .core.config import Settings


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
    from .cluster.cli import add_parser as add_cluster

    add_cluster(sub)

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for name in ("database_url", "host", "port", "workers", "pool_size", "write_pool_size"):
        value = getattr(args, name, None)
        if value is not None:
            setattr(settings, name, value)

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
    import asyncpg

    from .core.schema import load_service
    from .core.schema import migrate as run_migrate
    from .services import all_services, by_names

    if not data.is_dir():
        raise SystemExit(f"no such folder: {data}")
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'")
        ids: dict = {}
        started = time.monotonic()
        totals = [0, 0, 0]
        for service in by_names(only):
            if service.load is None:
                continue
            ctx = await load_service(conn, database_url, service, data, rejects, ids)
            if ctx is not None:
                for r in ctx.reports:
                    totals[0] += r.read
                    totals[1] += r.loaded
                    totals[2] += r.rejected
        await run_migrate(conn, all_services())
        print(f"total: read {totals[0]:,}  loaded {totals[1]:,}  rejected {totals[2]:,}"
              f"  in {time.monotonic() - started:.1f}s" + (f"  (rejects in {rejects})" if totals[2] else ""))
    finally:
        await conn.close()


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

    assert settings.database_url
    outdated = await migrate(settings.database_url)
    conn = await asyncpg.connect(settings.database_url)
    try:
        empty = not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM products.document)")
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
