"""Read throughput and p99 in the first minute after a restart, with and without prewarming.

    python bench/cold_start.py --root /var/tmp/atelier-cold --data data/full [--runs 3 --segments 6]

Runs on a private PostgreSQL that the script owns (it is stopped and started between runs: never
the shared server), kept in `--root` and loaded from `--data` the first time (a full-scale load
takes a while, once). Each run, for each setting (alternating which goes first):

1. PostgreSQL stops; with `--drop-caches` (root only) the OS page cache is dropped
   (`sync; echo 3 > /proc/sys/vm/drop_caches`: it slows everything on the machine for a while,
   so use it on a machine of your own); PostgreSQL starts again: shared buffers are empty.
2. `atelier serve` starts with `ATELIER_PREWARM=auto` (prewarmed) or `off` (cold).
3. Traffic starts when `/health/ready` says 200, as a balancer would send it: at once when cold,
   after the prewarm otherwise (that wait is reported).
4. `--segments` closed-loop runs of `--duration` seconds each of the legacy mix (`atelier loadtest
   max`, random ids over the whole range): requests/s and p99 per segment, and, second by second,
   the responses and the worst p99 of the first seconds (where a cold start shows most).

Without `--drop-caches` only PostgreSQL's shared buffers start cold (the OS keeps its cache), so
the difference is smaller than after a machine restart. Results: reports/bench/cold-start/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
from common import ATELIER, ROOT, free_port, loadtest, median, table, write_summary

sys.path.insert(0, str(ROOT / "tests"))
from private_postgres import PrivatePostgres

SETTINGS = {"prewarmed": "auto", "cold": "off"}
FIRST_SECONDS = 3  # the start of the first segment, second by second: where a cold start shows most


def ensure_loaded(pg: PrivatePostgres, data: Path | None) -> None:
    """Loads `data` into the private cluster the first time (a marker file says it was)."""
    done = pg.root / "loaded-from"
    if done.exists():
        return
    if data is None:
        raise SystemExit(f"{pg.root} holds no loaded cluster yet: pass --data")
    started = time.monotonic()
    subprocess.run([*ATELIER, "load", "--data", str(data), "--rejects", str(pg.root / "rejects")], cwd=ROOT,
                   env={**os.environ, "DATABASE_URL": pg.url(), "ATELIER_PREWARM": "off"}, check=True)
    done.write_text(f"{data.resolve()}\n")
    print(f"loaded {data} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def restart_cold(pg: PrivatePostgres, drop_caches: bool) -> None:
    pg.stop()
    if drop_caches:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    pg.start(within=300)  # crash recovery after a kill may take a while at full scale


def serve(pg: PrivatePostgres, prewarm: str, workers: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="atelier-cold-start-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen([*ATELIER, "serve", "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                                env={**os.environ, "DATABASE_URL": pg.url(), "ATELIER_PREWARM": prewarm},
                                stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}", log


def wait_ready(url: str, proc: subprocess.Popen[bytes], within: float) -> float:
    """Seconds until /health/ready answers 200."""
    import httpx

    started = time.monotonic()
    while time.monotonic() - started < within:
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"not ready within {within} s")


def one_run(args: argparse.Namespace, pg: PrivatePostgres, setting: str, run: int, max_id: int) -> dict[str, Any]:
    restart_cold(pg, args.drop_caches)
    proc, url, log = serve(pg, SETTINGS[setting], args.workers)
    try:
        ready = wait_ready(url, proc, args.ready_within)
        segments = []
        first_seconds: list[dict[str, Any]] = []
        for i in range(args.segments):
            r = loadtest(url, args.out, f"{setting}-{run}-{i + 1}", "max", "--mix", args.mix, "--max-id", str(max_id),
                         "--connections", str(args.connections), "--duration", str(args.duration), "--no-html")
            segments.append((r["requests_per_s"], r["latency_ms"]["p99"]))
            if i == 0:
                first_seconds = r["timeline"][:FIRST_SECONDS]
            print(f"  run {run} {setting:<9} segment {i + 1}: {r['requests_per_s']:>9,.0f} requests/s  "
                  f"p99 {r['latency_ms']['p99']:8.1f} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
        warm_lines = [line for line in log.read_text(errors="replace").splitlines() if "prewarm" in line]
        log.unlink()
    print(f"  run {run} {setting}: ready after {ready:.1f} s; " + "; ".join(warm_lines[-1:]), flush=True)
    return {"ready_s": ready, "segments": segments,
            "first_responses": sum(second["responses"] for second in first_seconds),
            "first_worst_p99": max((second["p99"] or 0.0 for second in first_seconds), default=None)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, required=True, help="folder of the private PostgreSQL cluster (kept)")
    p.add_argument("--data", type=Path, help="CSV folder to load the first time (for example data/full)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--segments", type=int, default=6, help="consecutive measurements after ready (default 6)")
    p.add_argument("--duration", type=float, default=10, help="seconds per segment (default 10)")
    p.add_argument("--mix", default="legacy")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--max-id", type=int, help="highest product id (default: counted in the database)")
    p.add_argument("--shared-buffers", default="128MB", help="PostgreSQL shared_buffers (default the stock 128MB)")
    p.add_argument("--drop-caches", action="store_true", help="drop the OS page cache before each start (root)")
    p.add_argument("--ready-within", type=float, default=1800, help="seconds to wait for ready (default 1800)")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "cold-start")
    args = p.parse_args()
    pg = PrivatePostgres(args.root, settings={"shared_buffers": args.shared_buffers})
    pg.init()
    pg.start()
    try:
        ensure_loaded(pg, args.data)
        max_id = args.max_id or _count_products(pg)
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in SETTINGS}
        for run in range(1, args.runs + 1):
            order = list(SETTINGS) if run % 2 else list(SETTINGS)[::-1]
            for setting in order:
                results[setting].append(one_run(args, pg, setting, run, max_id))
    finally:
        pg.stop()
    header = ["setting", "ready after s", f"first {FIRST_SECONDS} s: responses | worst p99 ms"]
    header += [f"seg {i + 1} req/s | p99 ms" for i in range(args.segments)]
    rows: list[list[Any]] = [header]
    summary: dict[str, Any] = {}
    for setting, runs in results.items():
        segs = [(median([r["segments"][i][0] for r in runs]), median([r["segments"][i][1] for r in runs]))
                for i in range(args.segments)]
        ready = median([r["ready_s"] for r in runs])
        responses, worst = median([r["first_responses"] for r in runs]), median([r["first_worst_p99"] for r in runs])
        first = f"{responses or 0:,.0f} | {worst or 0:,.1f}"
        rows.append([setting, ready, first] + [f"{rps:,.0f} | {p99:,.1f}" for rps, p99 in segs])
        summary[setting] = {"ready_s": ready, "segments": segs, "runs": runs}
    text = (f"Cold start vs prewarmed: medians of {args.runs} runs, {args.segments} x {args.duration:g} s of "
            f"'{args.mix}' after /health/ready, {args.connections} connections, {args.workers} worker(s), "
            f"shared_buffers {args.shared_buffers}, OS page cache {'dropped' if args.drop_caches else 'kept'}, "
            f"{max_id:,} products\n" + table(rows))
    write_summary(args.out, text, summary)


def _count_products(pg: PrivatePostgres) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(pg.url())
        try:
            return int(await conn.fetchval("SELECT max(product_id) FROM products.document"))
        finally:
            await conn.close()

    return asyncio.run(go())


if __name__ == "__main__":
    main()
