"""`atelier load` against the floor: PostgreSQL's own COPY of the same files into text tables.

    python bench/load_speed.py --data /work/data/s01-clean --runs 3 [--ref main]

Each run, alternated (A B, then B A, ...), into fresh databases dropped afterwards:
- raw: one text table per file (one `text` column per header field), `COPY ... (FORMAT csv,
  HEADER)` of every file at once, one connection per file (the issue's baseline; it only works
  on files without malformed rows, i.e. a data set generated with --defect-rate 0);
- atelier: `atelier load --data DIR` of this checkout (loaded, documents built, indexed, swapped in);
- with --ref REF: the same `atelier load` with the code of git revision REF (e.g. main).
Prints every run and the medians, and the ratio of each median to raw COPY's. The data files are
read once before the first run, so every run reads them from the page cache (warm).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg
from load_common import atelier_load, database, revision


async def raw_copy(database_url: str, files: list[Path]) -> float:
    """Seconds to COPY every file at once into text tables (tables created before the clock starts)."""
    conns = [await asyncpg.connect(database_url) for _ in files]
    try:
        for conn, path in zip(conns, files):
            with open(path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh))
            columns = ", ".join(f"c{i} text" for i in range(len(header)))
            await conn.execute(f"CREATE TABLE raw_{path.stem} ({columns})")
        started = time.monotonic()
        await asyncio.gather(*(conn.copy_to_table(f"raw_{path.stem}", source=path, format="csv", header=True)
                               for conn, path in zip(conns, files)))
        return time.monotonic() - started
    finally:
        for conn in conns:
            await conn.close()


def warm(files: list[Path]) -> None:
    for path in files:
        with open(path, "rb") as fh:
            while fh.read(1 << 24):
                pass


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a data set of all 14 files (without defects)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--ref", help="also time `atelier load` of this git revision (e.g. main)")
    p.add_argument("--no-raw", action="store_true", help="leave out the raw COPY baseline")
    args = p.parse_args()
    files = sorted(args.data.glob("*.csv"))
    warm(files)
    configs = ([] if args.no_raw else ["raw"]) + ["atelier"] + ([args.ref] if args.ref else [])
    seconds: dict[str, list[float]] = {c: [] for c in configs}
    with ExitStack() as stack:
        code = {"atelier": stack.enter_context(revision(None))}
        if args.ref:
            code[args.ref] = stack.enter_context(revision(args.ref))
        for i in range(args.runs):
            for config in configs if i % 2 == 0 else configs[::-1]:
                with database(config.replace("-", "_").replace("/", "_")[:20]) as url:
                    if config == "raw":
                        took = asyncio.run(raw_copy(url, files))
                    else:
                        with tempfile.TemporaryDirectory(prefix="loadspeed-rejects-") as rejects:
                            run = atelier_load(code[config], args.data, url, Path(rejects))
                        took = run.seconds
                        print(run.output.rstrip())
                seconds[config].append(took)
                print(f"run {i + 1}  {config:<10} {took:8.2f} s", flush=True)
    base = statistics.median(seconds[configs[0]])
    print(f"\n{args.data} ({sum(f.stat().st_size for f in files) / 1e6:,.0f} MB, {len(files)} files), "
          f"medians of {args.runs} alternated runs, files warm in the page cache:")
    for config in configs:
        m = statistics.median(seconds[config])
        runs = " ".join(f"{s:.2f}" for s in seconds[config])
        print(f"  {config:<10} {m:8.2f} s   ratio to {configs[0]} {m / base:5.2f}   runs: {runs}")


if __name__ == "__main__":
    main()
