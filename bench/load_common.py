"""What the load benchmarks share: throw-away databases, another revision's code, `atelier load` runs.

Databases are created on the PostgreSQL of $BENCH_ADMIN_URL (default the local one) with names
starting `loadspeed_`, and dropped after each run. Another revision's loader (for example main's)
runs from `git archive` of that revision, with this checkout's Python environment.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _database_url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path="/" + name))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(label: str) -> Iterator[str]:
    """A fresh database `loadspeed_<label>_<random>`, dropped on the way out."""
    name = f"loadspeed_{label}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f"CREATE DATABASE {name}"))
    try:
        yield _database_url(name)
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextmanager
def revision(ref: str | None) -> Iterator[Path]:
    """The project's code at git `ref`, or (None) a snapshot of this checkout's working tree, in a
    temporary folder: edits made while a benchmark runs do not reach it."""
    folder = Path(tempfile.mkdtemp(prefix="loadspeed-rev-"))
    try:
        if ref is None:
            shutil.copytree(ROOT / "atelier", folder / "atelier", ignore=shutil.ignore_patterns("__pycache__"))
        else:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "atelier"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class LoadRun:
    seconds: float
    output: str
    peak_rss_kb: int | None = None


_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def atelier_load(code: Path, data: Path, database_url: str, rejects: Path, *extra: str,
                 timeout: float = 3600) -> LoadRun:
    """`atelier load` of `data` with the code in `code`, timed from outside (wall clock); with
    /usr/bin/time present, also the peak memory of its largest process."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(code)}
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    command = [*timer, sys.executable, "-m", "atelier", "load", "--data", str(data), "--rejects", str(rejects), *extra]
    started = time.monotonic()
    result = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr[-5000:]}")
    peak = _PEAK.search(result.stderr)
    return LoadRun(seconds, result.stdout, int(peak.group(1)) if peak else None)
