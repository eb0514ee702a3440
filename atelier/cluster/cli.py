"""`atelier cluster up|status|scale|down`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EPILOG = """\
examples:
  atelier cluster up --api 2 --replica --cache        # NGINX on :3000, 2 API processes, replica, cache
  atelier cluster status
  atelier cluster scale --api 4                       # a new upstream list, NGINX reloaded gracefully
  atelier cluster down
  atelier cluster up --hosts --replica --port 3100 --dir /srv/c2   # hosts in network namespaces (root)

Without DATABASE_URL the cluster starts a private primary in DIR/primary and loads --data (or a
generated data set of --scale) into it; with DATABASE_URL it uses that server, and --replica then
needs a superuser there (pg_basebackup, and ALTER SYSTEM for synchronous replication; reset by down).
"""


DESCRIPTION = """\
Run atelier the way the legacy teams scaled it, on existing engines: NGINX in front of several
API processes (or API hosts in network namespaces), a private PostgreSQL primary with a
synchronous streaming replica serving reads, and an NGINX cache that every write purges before
it is acknowledged."""


def add_parser(sub: Any) -> None:
    from ..cli import subcommand

    p = subcommand(sub, "cluster", "NGINX, several API processes or hosts, a replica and a cache", DESCRIPTION)
    p.epilog = EPILOG
    p.add_argument("action", choices=("up", "status", "scale", "down"), help="what to do with the cluster")
    p.add_argument("--dir", type=Path, help="the cluster's folder (default: $ATELIER_HOME/cluster)")
    p.add_argument("--api", type=int, help="API processes (default: 2; --hosts spreads them over two API hosts)")
    p.add_argument("--replica", action="store_true", help="a streaming replica serving reads")
    p.add_argument("--cache", action="store_true", help="NGINX caches GET answers; writes purge them")
    p.add_argument("--cache-origin", action="append", default=[], metavar="ORIGIN",
                   help="also cache answers to requests from this Origin (repeatable; default: none)")
    p.add_argument("--cache-log", action="store_true",
                   help="log each answer's cache status to DIR/nginx/cache.log (to measure the hit rate)")
    p.add_argument("--fill-bound-ms", type=int, default=50,
                   help="the cache stores only answers that came within this; writes wait as long")
    p.add_argument("--hosts", action="store_true", help="separate hosts in network namespaces (needs root)")
    p.add_argument("--port", type=int, help="NGINX's port (default: 3000)")
    p.add_argument("--workers", type=int, default=1, help="Granian workers per API process")
    p.add_argument("--max-lag", type=float, default=1.0, help="seconds a replica may lag before reads leave it")
    p.add_argument("--no-fsync", dest="fsync", action="store_false",
                   help="private PostgreSQL servers without fsync: for throw-away clusters (tests) only")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="load this folder of CSV files into the private primary (default: a generated set)")
    p.add_argument("--scale", type=float, default=0.01, help="scale of generated data")
    p.add_argument("--database-url", dest="database_url", help="primary (default: $DATABASE_URL)")
    p.set_defaults(run=main)


def main(args: argparse.Namespace, settings: Any) -> None:
    from .cluster import Cluster, Options

    folder = args.dir or Path(os.environ.get("ATELIER_HOME", ".atelier")) / "cluster"
    cluster = Cluster(folder)
    if args.action == "up":
        options = Options(api=args.api or 2, replica=args.replica, cache=args.cache, hosts=args.hosts,
                          port=args.port or 3000, database_url=settings.database_url, data=args.data,
                          scale=args.scale, home=settings.home, cache_origins=args.cache_origin,
                          max_lag=args.max_lag, workers=args.workers, cache_log=args.cache_log,
                          fsync=args.fsync, fill_bound_ms=args.fill_bound_ms)
        state = cluster.up(options)
        print(f"cluster up in {cluster.folder}: {state.url} -> {len(state.apis)} API processes"
              + (", replica" if state.replica_url else "") + (", cache" if options.cache else ""))
        print(f"stop it with: atelier cluster down --dir {cluster.folder}", file=sys.stderr)
    elif args.action == "status":
        rows = cluster.status()
        print(f"{'member':<10} {'health':<7} {'pid':>8}  {'where':<34} detail")
        for row in rows:
            print(f"{row['member']:<10} {row['health']:<7} {row['pid']:>8}  {row['where']:<34} {row['detail']}")
    elif args.action == "scale":
        if not args.api:
            raise SystemExit("atelier cluster scale --api N")
        cluster.scale(args.api)
        print(f"{args.api} API processes behind NGINX")
    else:
        cluster.load()
        cluster.down()
        print(f"cluster in {cluster.folder} is down")
