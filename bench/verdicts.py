"""Same verdicts? Loads one data set with two loaders and compares everything they produced.

    python bench/verdicts.py --data DIR [--ref main] [--only products reviews]

Loads DIR with `atelier load` of git revision REF (default main) and of this checkout, into two
fresh databases (dropped afterwards), then compares byte for byte:
- every reject file (`<file>.rejects.csv`: file, line, reason, raw text), and that both loaders
  wrote the same set of reject files;
- every table of every loaded service: all rows, each table dumped in a total order
  (`COPY (SELECT * ... ORDER BY every column) TO STDOUT`) and hashed, so the documents count too;
- the summary lines (read, loaded, rejected, repaired per file) of the two loads.
Exits 1 on any difference, naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sys
import tempfile
from pathlib import Path

import asyncpg
from load_common import atelier_load, database, revision

SERVICES = ("products", "reviews", "qa", "cart")


# Columns stamped with the time of the load (products' created_at, updated_at), left out, and
# their copies inside the products documents, masked.
LOAD_TIME = {"created_at", "updated_at"}
_MASK = """regexp_replace(convert_from({0}, 'UTF8'), '"(created_at|updated_at)":"[^"]*"', '"\\1":""', 'g')"""


def _comparable(column: str, kind: str) -> str:
    return _MASK.format(column) if kind == "bytea" else column


class _Hasher:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)


async def table_digests(database_url: str) -> dict[str, tuple[str, int]]:
    """schema.table -> (sha256, bytes) of its rows in a total order, for every service table."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE' ORDER BY 1, 2", list(SERVICES))
        digests = {}
        for schema, table in tables:
            columns = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position", schema, table)
            select = [_comparable(name, kind) for name, kind in columns if name not in LOAD_TIME]
            order = ", ".join(str(i) for i in range(1, len(select) + 1))
            hasher = _Hasher()
            query = f"SELECT {', '.join(select)} FROM {schema}.{table} ORDER BY {order}"
            await conn.copy_from_query(query, output=hasher.write)
            digests[f"{schema}.{table}"] = (hasher.digest.hexdigest(), hasher.size)
        return digests
    finally:
        await conn.close()


_SUMMARY = re.compile(r"^(\S+\.csv)\s+read\s+([\d,]+)\s+loaded\s+([\d,]+)\s+rejected\s+([\d,]+)"
                      r"(?:\s+repaired\s+([\d,]+))?")


def summary(output: str) -> dict[str, tuple[str, ...]]:
    """file -> (read, loaded, rejected, repaired) from `atelier load`'s report lines."""
    return {m.group(1): tuple(g or "0" for g in m.groups()[1:])
            for m in map(_SUMMARY.match, output.splitlines()) if m}


def compare_rejects(a: Path, b: Path) -> list[str]:
    problems = []
    names_a = {p.name for p in a.glob("*.rejects.csv")}
    names_b = {p.name for p in b.glob("*.rejects.csv")}
    if names_a != names_b:
        problems.append(f"reject files differ: only before {sorted(names_a - names_b)}, "
                        f"only after {sorted(names_b - names_a)}")
    for name in sorted(names_a & names_b):
        if (a / name).read_bytes() != (b / name).read_bytes():
            problems.append(f"{name} differs")
    return problems


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--ref", default="main", help="the reference loader's git revision (default main)")
    p.add_argument("--only", nargs="+", metavar="SERVICE")
    p.add_argument("--keep-rejects", type=Path, help="keep both loaders' reject files and output under this folder")
    args = p.parse_args()
    extra = ["--only", *args.only] if args.only else []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loadspeed-verdicts-") as tmp:
        rejects = args.keep_rejects or Path(tmp)
        results = {}
        for label, ref in (("before", args.ref), ("after", None)):
            with revision(ref) as code, database(f"verdict_{label}") as url:
                run = atelier_load(code, args.data, url, rejects / label, *extra)
                (rejects / f"{label}.log").write_text(run.output)
                print(f"{label} ({ref or 'this checkout'}): {run.seconds:.1f} s, peak {run.peak_rss_kb} kB",
                      flush=True)
                results[label] = (summary(run.output), asyncio.run(table_digests(url)))
        (sum_a, tables_a), (sum_b, tables_b) = results["before"], results["after"]
        if sum_a != sum_b:
            problems.append(f"summaries differ:\n  before {sum_a}\n  after  {sum_b}")
        for table in sorted(set(tables_a) | set(tables_b)):
            if tables_a.get(table) != tables_b.get(table):
                problems.append(f"table {table} differs: {tables_a.get(table)} vs {tables_b.get(table)}")
        problems += compare_rejects(rejects / "before", rejects / "after")
        rows = sum(int(v[0].replace(",", "")) for v in sum_b.values())
        rejected = sum(int(v[2].replace(",", "")) for v in sum_b.values())
    if problems:
        print("DIFFERENT:\n" + "\n".join(problems))
        sys.exit(1)
    print(f"same verdicts: {len(sum_b)} files ({rows:,} rows read, {rejected:,} rejected), "
          f"{len(tables_b)} tables identical, reject files identical")


if __name__ == "__main__":
    main()
