"""`atelier load` of one data set by two versions of atelier, alternated, each into a fresh
database: wall time per run, medians and the ratio B/A. Alternating spreads the noise of a
shared machine over both versions; the ratio is the figure to read, not the seconds.

    .venv/bin/python bench/load_side_by_side.py b78d027 . --data /work/data/s01-clean --rounds 3

A version is a commit (exported with `git archive`) or `.` for this working tree. Both run with
this tree's virtualenv. With --logs DIR, each run's output (its per-file and per-step times) is
kept as DIR/<round>-<a|b>.txt, and the medians of every step are printed side by side.
Databases are named `<prefix>_a`/`_b` (--prefix, default atelier_bench_load), created and
dropped on the server of --admin-url.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
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


def load(code: Path, database_url: str, data: Path, rejects: Path) -> tuple[float, str]:
    """Wall seconds and the output of one `atelier load`."""
    env = {**os.environ, "PYTHONPATH": str(code), "DATABASE_URL": database_url}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "atelier", "load", "--data", str(data), "--rejects", str(rejects)],
                            cwd=code, env=env, check=True, capture_output=True, text=True)
    return time.monotonic() - started, result.stdout


# `  precompute documents      12.3s` or `photos.csv  read ...  loaded ...  4.5s`: a step and its seconds
STEP = re.compile(r"^(\s*\S.*?)\s+(?:read .*?)?(\d+\.\d)s$")


def steps(output: str) -> list[tuple[str, float]]:
    """(step, seconds) of each timed line of a load's output, a repeated label numbered."""
    found: list[tuple[str, float]] = []
    for line in output.splitlines():
        match = STEP.match(line)
        if match:
            label = match.group(1).strip()
            repeats = sum(1 for name, _ in found if name.split(" #")[0] == label)
            found.append((f"{label} #{repeats + 1}" if repeats else label, float(match.group(2))))
    return found


def print_steps(outputs: dict[str, list[str]]) -> None:
    per_side = {side: [dict(steps(o)) for o in outs] for side, outs in outputs.items()}
    labels = list(dict.fromkeys(label for runs in per_side.values() for run in runs for label in run))
    print(f"{'step (median seconds)':<44} {'a':>8} {'b':>8}")
    for label in labels:
        medians = [statistics.median([run[label] for run in per_side[s] if label in run] or [float("nan")])
                   for s in ("a", "b")]
        print(f"{label:<44} {medians[0]:8.1f} {medians[1]:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the version measured first in each round (a commit, or .)")
    parser.add_argument("b", help="the other version")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--prefix", default="atelier_bench_load")
    parser.add_argument("--logs", type=Path, help="keep each run's output here, and compare the steps")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"a": [], "b": []}
    outputs: dict[str, list[str]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as work:
        codes = {"a": export(args.a, Path(work) / "a"), "b": export(args.b, Path(work) / "b")}
        try:
            for round_ in range(args.rounds):
                for side in ("a", "b") if round_ % 2 == 0 else ("b", "a"):
                    url = asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}"))
                    seconds, output = load(codes[side], url, args.data, Path(work) / f"rejects-{side}")
                    asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}", drop_only=True))
                    times[side].append(seconds)
                    outputs[side].append(output)
                    if args.logs:
                        args.logs.mkdir(parents=True, exist_ok=True)
                        (args.logs / f"{round_ + 1}-{side}.txt").write_text(output)
                    print(f"round {round_ + 1} {side} ({getattr(args, side)}): {seconds:.1f} s", flush=True)
        finally:
            for side in ("a", "b"):
                asyncio.run(recreate(args.admin_url, f"{args.prefix}_{side}", drop_only=True))
    a, b = statistics.median(times["a"]), statistics.median(times["b"])
    print(f"median a ({args.a}): {a:.1f} s   median b ({args.b}): {b:.1f} s   b/a: {b / a:.3f}")
    print("ratios b/a per round: " + ", ".join(f"{tb / ta:.3f}" for ta, tb in zip(times["a"], times["b"])))
    if args.logs:
        print_steps(outputs)


if __name__ == "__main__":
    main()
