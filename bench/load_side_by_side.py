"""`atelier load` of one data set by two versions of atelier, alternated, each into a fresh
database: wall time per run, medians and the ratio B/A. Alternating spreads the noise of a
shared machine over both versions; the ratio is the figure to read, not the seconds.

    .venv/bin/python bench/load_side_by_side.py b78d027 . --data /work/data/s01-clean --rounds 3

A version is a commit (exported with `git archive`) or `.` for this working tree. Both run with
this tree's virtualenv. Databases are named `<prefix>_a`/`_b` (--prefix, default
atelier_bench_load), created and dropped on the server of --admin-url.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

HERE = Path(__file__).resolve().parent.parent


def export(ref: str, into: Path) -> Path:
    """The `atelier` package of `ref`, or this tree's for `.`."""
    if ref == ".":
        return HERE
    archive = subprocess.run(["git", "-C", str(HERE), "archive", ref, "atelier"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


async def recreate(admin_url: str, name: str, drop_only: bool = False) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


def load(code: Path, database_url: str, data: Path, rejects: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(code), "DATABASE_URL": database_url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "atelier", "load", "--data", str(data), "--rejects", str(rejects)],
                   cwd=code, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the version measured first in each round (a commit, or .)")
    parser.add_argument("b", help="the other version")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--prefix", default="atelier_bench_load")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as work:
        codes = {"a": export(args.a, Path(work) / "a"), "b": export(args.b, Path(work) / "b")}
        try:
            for round_ in range(args.rounds):
                for side in ("a", "b") if round_ % 2 == 0 else ("b", "a"):
                    url = asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}"))
                    seconds = load(codes[side], url, args.data, Path(work) / f"rejects-{side}")
                    asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}", drop_only=True))
                    times[side].append(seconds)
                    print(f"round {round_ + 1} {side} ({getattr(args, side)}): {seconds:.1f} s", flush=True)
        finally:
            for side in ("a", "b"):
                asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}", drop_only=True))
    a, b = statistics.median(times["a"]), statistics.median(times["b"])
    print(f"median a ({args.a}): {a:.1f} s   median b ({args.b}): {b:.1f} s   b/a: {b / a:.3f}")
    print("ratios b/a per round: " + ", ".join(f"{tb / ta:.3f}" for ta, tb in zip(times["a"], times["b"])))


if __name__ == "__main__":
    main()
