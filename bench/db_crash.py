"""`kill -9` of PostgreSQL under a mixed write stream: what clients see while it is down and how
soon they are served again after it restarts.

    python bench/db_crash.py [--runs 3 --users 32 --down-at 5 --down-for 5 --duration 20 --workers 1]
    python bench/db_crash.py --source . --source /tmp/main      # side by side with another tree

Each run starts a private PostgreSQL (never the shared one: it is killed), loads the legacy
sample into it, starts `atelier serve` on it and runs a closed-loop mixed stream (reviews, votes,
questions, answers, cart, interactions, and 30% reads) from `--users` shoppers, each on a
keep-alive connection of its own. At `--down-at` seconds the postmaster gets SIGKILL; it is
started again `--down-for` seconds later. Reported, medians over the runs: the latency of the 503s
while the database is down; the recovery time (from the moment PostgreSQL accepts connections
again to the first 0.5 s window in which every answer is a success, and to client latency back
under twice its median before the crash); the client p50 and p99 in the 5 s after recovery; the
count of 500s (must be 0) and of acknowledged writes missing afterwards (must be 0).
`--source DIR` runs the server from another source tree (for example an export of main:
`git archive main | tar -x -C /tmp/main`); given twice, runs alternate between the two trees.
PostgreSQL runs with fsync off (a process crash loses nothing the OS holds; synchronous_commit
stays on, so an acknowledged write must survive), keeping the disk out of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from common import ROOT, free_port

sys.path.insert(0, str(ROOT / "tests"))

from private_postgres import PrivatePostgres
from write_stream import Answer, WriteStream, cart_counts, helpfulness, missing_writes

WINDOW = 0.5  # seconds per bucket of the timeline


def start_server(source: Path, database_url: str, workers: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="atelier-crash-server-", suffix=".log")[1])
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(source)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "atelier", "serve", "--port", str(port), "--workers",
                                 str(workers)], cwd=source, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/products/1", timeout=2).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


def crash_schedule(pg: PrivatePostgres, down_at: float, down_for: float, events: dict[str, float], t0: float) -> None:
    time.sleep(max(0.0, t0 + down_at - time.monotonic()))
    events["killed"] = time.monotonic() - t0
    pg.kill()
    time.sleep(max(0.0, t0 + down_at + down_for - time.monotonic()))
    events["restarting"] = time.monotonic() - t0
    pg.start()
    events["accepting"] = time.monotonic() - t0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def analyse(answers: list[Answer], events: dict[str, float]) -> dict[str, float | int | None]:
    before = [a.seconds for a in answers if a.started < events["killed"] and a.status // 100 == 2]
    baseline = statistics.median(before) if before else 0.0
    down = [a for a in answers if events["killed"] + 0.5 <= a.started < events["restarting"]]
    accepting = events["accepting"]
    windows: dict[int, list[Answer]] = {}
    for a in answers:
        if a.started >= accepting:
            windows.setdefault(int((a.started - accepting) / WINDOW), []).append(a)
    all_ok = latency_ok = None
    for index in sorted(windows):
        batch = windows[index]
        if all_ok is None and all(a.status // 100 in (2, 4) for a in batch):
            all_ok = index * WINDOW
        if all_ok is not None and latency_ok is None and \
                statistics.median(a.seconds for a in batch) <= 2 * baseline + 0.002:
            latency_ok = index * WINDOW
        if all_ok is not None and latency_ok is not None:
            break
    settled = accepting + (all_ok or 0.0)
    after = [a.seconds for a in answers if all_ok is not None and settled <= a.started < settled + 5]
    return {
        "baseline_p50_ms": 1000 * baseline,
        "down_503": sum(a.status == 503 for a in down),
        "down_other": sum(a.status != 503 for a in down),
        "down_503_p50_ms": _ms(percentile([a.seconds for a in down if a.status == 503], 0.5)),
        "down_503_p99_ms": _ms(percentile([a.seconds for a in down if a.status == 503], 0.99)),
        "restart_s": accepting - events["restarting"],
        "recovered_all_ok_s": all_ok,
        "recovered_latency_s": latency_ok,
        "after_p50_ms": _ms(percentile(after, 0.5)),
        "after_p99_ms": _ms(percentile(after, 0.99)),
        "status_500": sum(a.status == 500 for a in answers),
        "no_answer": sum(a.status == 0 for a in answers),
        "requests": len(answers),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 2)


def timeline(answers: list[Answer], events: dict[str, float]) -> str:
    rows = ["   t(s)  answers  2xx  4xx  500  503 none   p50 ms   p99 ms"]
    windows: dict[int, list[Answer]] = {}
    for a in answers:
        windows.setdefault(int(a.started / WINDOW), []).append(a)
    for index in sorted(windows):
        batch = windows[index]
        lat = [a.seconds for a in batch]
        marks = [name for name, at in events.items() if index * WINDOW <= at < (index + 1) * WINDOW]
        by_class = Counter("2xx" if a.status // 100 == 2 else "4xx" if a.status // 100 == 4 else a.status
                           for a in batch)
        counts = " ".join(f"{by_class[c]:4d}" for c in ("2xx", "4xx", 500, 503, 0))
        rows.append(f"{index * WINDOW:7.1f}  {len(batch):7d} {counts}  {1000 * (percentile(lat, 0.5) or 0):7.1f}  "
                    f"{1000 * (percentile(lat, 0.99) or 0):7.1f}  {' '.join(marks)}")
    return "\n".join(rows)


def one_run(args: argparse.Namespace, source: Path, run: int) -> dict[str, float | int | None]:
    # fsync off: a process crash loses nothing the OS holds, and the machine's disk stays out of the figures
    with PrivatePostgres(settings={"fsync": "off"}) as pg:
        database_url = pg.url()
        subprocess.run([sys.executable, "-m", "atelier", "load", "--data", str(ROOT / "atelier" / "legacy_sample"),
                        "--rejects", str(pg.root / "rejects")], cwd=source,
                       env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(source)},
                       check=True, capture_output=True)
        votes_before = asyncio.run(helpfulness(database_url))
        server, url, log = start_server(source, database_url, args.workers)
        try:
            stream = WriteStream(url, users=args.users)
            events: dict[str, float] = {}
            t0 = time.monotonic()
            crasher = threading.Thread(target=crash_schedule, args=(pg, args.down_at, args.down_for, events, t0))
            crasher.start()
            answers = asyncio.run(stream.run(args.duration))
            crasher.join()
            result = analyse(answers, events)
            missing, votes = asyncio.run(missing_writes(database_url, answers, votes_before))
            carts = asyncio.run(cart_counts(url, answers))
        finally:
            server.terminate()
            server.wait(15)
        lost = sum(len(markers) for markers in missing.values())
        acked_votes, stored_votes, _ = votes
        lost += max(0, acked_votes - stored_votes) + sum(max(0, a - s) for a, s, _ in carts)
        result["acknowledged_missing"] = lost
        print(f"run {run} ({source}): {result}")
        if args.timeline:
            print(timeline(answers, events))
        server_log = log.read_text(errors="replace")
        tracebacks = server_log.count("Traceback")
        result["server_tracebacks"] = tracebacks
        if tracebacks and args.show_log:
            print(server_log[-4000:])
        log.unlink()
        return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--down-at", type=float, default=5)
    p.add_argument("--down-for", type=float, default=5)
    p.add_argument("--duration", type=float, default=20)
    p.add_argument("--source", type=Path, action="append",
                   help="source tree the server runs from (default: this one); give it twice to compare two trees, "
                        "runs alternating between them")
    p.add_argument("--timeline", action="store_true", help="print every run's timeline (0.5 s windows)")
    p.add_argument("--show-log", action="store_true", help="print the end of the server log when it has tracebacks")
    args = p.parse_args()
    sources = args.source or [ROOT]
    results: dict[Path, list[dict[str, float | int | None]]] = {source: [] for source in sources}
    for i in range(args.runs):
        for source in sources if i % 2 == 0 else sources[::-1]:
            results[source].append(one_run(args, source, i + 1))
    for source, runs in results.items():
        print(f"\nmedians of {args.runs} runs ({args.users} shoppers, {args.workers} worker(s), source {source}):")
        for key in runs[0]:
            values = [float(v) for r in runs if (v := r[key]) is not None]
            print(f"  {key:<22} {statistics.median(values) if values else None}   runs: {[r[key] for r in runs]}")


if __name__ == "__main__":
    main()
