"""What read-your-writes through a synchronous replica, and the never-stale cache, cost a write:
POST /reviews latency through three clusters side by side: without a replica, with `--replica`
(commits wait for the replica to apply them: synchronous_commit = remote_apply), and with
`--replica --cache` (the write also purges NGINX twice around its fill bound); batches
alternated, medians of the batches.

    python bench/replica_write_latency.py --data /work/data/s01-clean --rounds 5 --writes 200

Every cluster loads --data into a private primary of their own; writes are sequential (one at a
time: the latency of one write, not the throughput of many).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import ATELIER, ROOT, free_port, table, write_summary

REVIEW = {"product_id": 1, "rating": 4, "summary": "bench", "body": "replica write latency", "recommend": True,
          "name": "bench", "email": "bench@example.com", "photos": []}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--writes", type=int, default=200, help="writes per batch")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench" / "replica_write_latency")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atelier-rwl-"))
    work.chmod(0o755)
    env = {**os.environ, "DATABASE_URL": ""}
    clusters = {"no replica": [], "replica (remote_apply)": ["--replica"],
                "replica + cache (two purges, 50 ms fill bound)": ["--replica", "--cache"]}
    urls: dict[str, str] = {}
    try:
        for i, (name, flags) in enumerate(clusters.items()):
            folder = work / f"c{i}"
            _run([*ATELIER, "cluster", "up", "--dir", str(folder), "--api", "1", "--port", str(free_port()),
                  "--data", str(args.data), *flags], env)
            urls[name] = json.loads((folder / "cluster.json").read_text())["url"]
        batches: dict[str, list[dict[str, float]]] = {name: [] for name in clusters}
        for _ in range(args.rounds):
            for name, url in urls.items():
                batches[name].append(batch(url, args.writes))
    finally:
        for i in range(len(clusters)):
            if (work / f"c{i}" / "cluster.json").exists():
                _run([*ATELIER, "cluster", "down", "--dir", str(work / f"c{i}")], env)
        shutil.rmtree(work, ignore_errors=True)
    rows: list[list[Any]] = [["cluster", "p50 ms", "p99 ms", "writes/s (one at a time)"]]
    for name, runs in batches.items():
        rows.append([name, statistics.median(r["p50"] for r in runs), statistics.median(r["p99"] for r in runs),
                     statistics.median(r["rate"] for r in runs)])
    write_summary(args.out, f"POST /reviews through NGINX, {args.writes} sequential writes x {args.rounds} "
                            f"alternated batches, medians\n" + table(rows), batches)


def batch(url: str, writes: int) -> dict[str, float]:
    times = []
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/health")
        started = time.perf_counter()
        for _ in range(writes):
            t = time.perf_counter()
            if client.post("/reviews", json=REVIEW).status_code != 201:
                raise SystemExit("a write failed")
            times.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - started
    times.sort()
    return {"p50": times[len(times) // 2], "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
            "rate": writes / elapsed}


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    print(result.stdout.strip(), file=sys.stderr)


if __name__ == "__main__":
    main()
