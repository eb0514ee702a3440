"""Two revisions of atelier side by side: one server from each, on the same database, measured in turn.

    DATABASE_URL=postgresql://... python bench/compare_revisions.py --base main
        [--head REV] [--mixes styles,reviews] [--rounds 5] [--duration 10] [--warmup 15]
        [--connections 32] [--threads 2] [--workers 1] [--ids uniform] [--max-id N]
        [--env K=V] [--base-env K=V] [--head-env K=V] [--base-database-url URL] [--base-python PY]

`--base` (a branch, tag or commit) is checked out into a temporary git worktree; the head is this
working tree as it is (uncommitted changes included) unless `--head` names a revision too. Each
side runs `atelier serve` from its own tree (PYTHONPATH, checked before it starts) on a free
loopback port, both at once on the same database, so that they share its warm caches. Every
mix is first warmed up on each side, then measured with `atelier loadtest max` (the wrk engine
of this tree for both sides) in rounds alternated ABBA (base, head, then head, base), and the
medians of requests/s, p99 and the server's CPU time per request are printed with their ratios
head/base. On a machine shared with other jobs, requests/s and p99 move with the neighbours; the
CPU time per request is the steadier figure.

The database must be loaded (`atelier load --data DIR`; `/work/data/s01-clean`-sized data is
enough for a comparison) and both revisions must accept its layout: `serve` runs `migrate` and
refuses a layout it does not know. Revisions with different layouts need a database each
(`--base-database-url`). A revision that needs other dependencies than this environment has can
run under another interpreter (`--base-python path/to/venv/bin/python`).
The same revision under two settings: `--base HEAD --base-env ATELIER_BATCH=0`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

from common import ROOT, free_port, highest_product_id, loadtest, median, table, tree_cpu_seconds, write_summary


@dataclass
class Side:
    name: str  # "base" or "head"
    revision: str  # as given, or "working tree"
    commit: str
    tree: Path
    python: str
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    pid: int = 0
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


@contextmanager
def worktree(revision: str) -> Iterator[tuple[Path, str]]:
    """`revision` checked out (detached) in a temporary worktree, removed afterwards."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    parent = Path(tempfile.mkdtemp(prefix="atelier-compare-"))
    tree = parent / commit[:12]
    git("worktree", "add", "--detach", str(tree), commit)
    try:
        yield tree, commit
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def side_env(side: Side) -> dict[str, str]:
    env = {**os.environ, **side.env, "DATABASE_URL": side.database_url}
    env["PYTHONPATH"] = os.pathsep.join([str(side.tree), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def check_imports(side: Side) -> None:
    """The side's interpreter must import atelier from the side's tree, and all of its dependencies."""
    probe = "import atelier, atelier.server, pathlib; print(pathlib.Path(atelier.__file__).resolve().parent.parent)"
    result = subprocess.run([side.python, "-c", probe], cwd=side.tree, env=side_env(side), capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise SystemExit(f"{side.name} ({side.revision}) does not import with {side.python}:\n{result.stderr[-2000:]}"
                         f"\n(another environment: --{side.name}-python)")
    found = Path(result.stdout.strip().splitlines()[-1])
    if found != side.tree.resolve():
        raise SystemExit(f"{side.name}: atelier was imported from {found}, not from {side.tree}")


def _status(url: str) -> int | None:
    try:
        with urlopen(url, timeout=2) as response:
            return int(response.status)
    except URLError as exc:
        return getattr(exc, "code", None)
    except OSError:
        return None


@contextmanager
def running(side: Side, workers: int, log_dir: Path) -> Iterator[None]:
    """`atelier serve` of the side on a free port, until the block ends."""
    port = free_port()
    log_path = log_dir / f"{side.name}-server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([side.python, "-m", "atelier", "serve", "--port", str(port), "--workers", str(workers)],
                                cwd=side.tree, env=side_env(side), stdout=log, stderr=subprocess.STDOUT)
        side.url, side.pid = f"http://127.0.0.1:{port}", proc.pid
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"{side.name} server exited:\n{log_path.read_text()[-3000:]}")
                status = _status(side.url + "/products/1")
                if status is not None and status < 500:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{side.name} server did not answer within 90 s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure(side: Side, out: Path, name: str, mix: str, seconds: float, args: argparse.Namespace,
            max_id: int) -> dict[str, Any]:
    """One run; adds the server's CPU time per request (its processes' user + system time over the run),
    which other jobs on the machine disturb far less than requests/s."""
    cpu = tree_cpu_seconds(side.pid)
    r = loadtest(side.url, out, name, "max", "--mix", mix, "--ids", args.ids, "--max-id", str(max_id),
                 "--duration", str(seconds), "--connections", str(args.connections), "--threads", str(args.threads),
                 "--no-html")
    r["server_cpu_us"] = (tree_cpu_seconds(side.pid) - cpu) * 1e6 / max(1, r["completed"])
    return r


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"not KEY=VALUE: {pair!r}")
        env[key] = value
    return env


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="main", help="revision to compare against (default main)")
    p.add_argument("--head", help="revision to compare (default: this working tree as it is)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                   help="loaded database (default $DATABASE_URL)")
    p.add_argument("--base-database-url", help="another database for the base (default: the same)")
    p.add_argument("--mixes", default="styles,reviews", help="comma-separated `atelier loadtest` mixes")
    p.add_argument("--rounds", type=int, default=5, help="measured runs per side and mix (default 5)")
    p.add_argument("--duration", type=float, default=10, help="seconds per run (default 10)")
    p.add_argument("--warmup", type=float, default=15, help="seconds of warm-up per side and mix (default 15)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--threads", type=int, default=2,
                   help="wrk threads (default 2: the cheapest generator, the least CPU taken from the servers)")
    p.add_argument("--workers", type=int, default=1, help="worker processes per server (default 1)")
    p.add_argument("--ids", default="uniform", choices=("uniform", "recent"))
    p.add_argument("--max-id", type=int, help="highest product id (default: asked of the head server)")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="setting for both servers")
    p.add_argument("--base-env", action="append", default=[], metavar="K=V", help="setting for the base server")
    p.add_argument("--head-env", action="append", default=[], metavar="K=V", help="setting for the head server")
    p.add_argument("--base-python", default=sys.executable, help="interpreter of the base (default this one)")
    p.add_argument("--head-python", default=sys.executable, help="interpreter of the head (default this one)")
    p.add_argument("--out", type=Path, help="results folder (default reports/bench/compare-revisions)")
    args = p.parse_args()
    if not args.database_url:
        raise SystemExit("a loaded database is needed: set DATABASE_URL or pass --database-url")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: bash bench/install-tools.sh")
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    return args


def main() -> None:
    args = arguments()
    out: Path = args.out or ROOT / "reports" / "bench" / "compare-revisions"
    out.mkdir(parents=True, exist_ok=True)
    mixes = [m.strip() for m in args.mixes.split(",") if m.strip()]
    with ExitStack() as stack:
        base_tree, base_commit = stack.enter_context(worktree(args.base))
        if args.head:
            head_tree, head_commit = stack.enter_context(worktree(args.head))
        else:
            dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
            head_tree, head_commit = ROOT, git("rev-parse", "HEAD") + (" + uncommitted changes" if dirty else "")
        shared = parse_env(args.env)
        base = Side("base", args.base, base_commit, base_tree, args.base_python,
                    args.base_database_url or args.database_url, {**shared, **parse_env(args.base_env)})
        head = Side("head", args.head or "working tree", head_commit, head_tree, args.head_python,
                    args.database_url, {**shared, **parse_env(args.head_env)})
        for side in (base, head):
            check_imports(side)
            stack.enter_context(running(side, args.workers, out))
            print(f"{side.name}: {side.revision} ({side.commit}) on {side.url}", flush=True)
        max_id = args.max_id or highest_product_id(head.url)
        for mix in mixes:
            for side in (base, head):
                side.runs[mix] = []
                if args.warmup > 0:
                    measure(side, out, f"warmup-{side.name}-{mix}", mix, args.warmup, args, max_id)
            for n in range(args.rounds):
                order = (base, head) if n % 2 == 0 else (head, base)
                for side in order:
                    r = measure(side, out, f"{mix}-{side.name}-{n + 1}", mix, args.duration, args, max_id)
                    side.runs[mix].append(r)
                    print(f"  {mix:<12} round {n + 1} {side.name}  {r['requests_per_s']:>10,.1f} req/s  "
                          f"p99 {r['latency_ms']['p99']:.2f} ms  server CPU {r['server_cpu_us']:.0f} µs/request  "
                          f"errors {100 * r['error_rate']:.2f}%", flush=True)
        report(base, head, mixes, args, max_id, out)


def report(base: Side, head: Side, mixes: list[str], args: argparse.Namespace, max_id: int, out: Path) -> None:
    rows = [["mix", "base req/s", "head req/s", "ratio", "base p99 ms", "head p99 ms", "ratio",
             "base CPU µs/req", "head CPU µs/req", "ratio", "errors %"]]
    summary: dict[str, Any] = {"base": {"revision": base.revision, "commit": base.commit, "env": base.env},
                               "head": {"revision": head.revision, "commit": head.commit, "env": head.env},
                               "max_id": max_id, "mixes": {}}
    for mix in mixes:
        m: dict[str, Any] = {}
        for side in (base, head):
            rs = side.runs[mix]
            m[side.name] = {"requests_per_s": median([r["requests_per_s"] for r in rs]),
                            "p99_ms": median([r["latency_ms"]["p99"] for r in rs]),
                            "server_cpu_us": median([r["server_cpu_us"] for r in rs]),
                            "error_rate": max(r["error_rate"] for r in rs),
                            "runs": [[r["requests_per_s"], r["latency_ms"]["p99"], r["server_cpu_us"]] for r in rs]}
        ratios = {key: m["head"][key] / m["base"][key] for key in ("requests_per_s", "p99_ms", "server_cpu_us")}
        m["ratio"] = ratios
        summary["mixes"][mix] = m
        rows.append([mix, m["base"]["requests_per_s"], m["head"]["requests_per_s"], f"{ratios['requests_per_s']:.3f}",
                     m["base"]["p99_ms"], m["head"]["p99_ms"], f"{ratios['p99_ms']:.3f}",
                     m["base"]["server_cpu_us"], m["head"]["server_cpu_us"], f"{ratios['server_cpu_us']:.3f}",
                     f"{100 * max(m['base']['error_rate'], m['head']['error_rate']):.2f}"])
    text = (f"base {base.revision} ({base.commit}){_env_text(base)}\nhead {head.revision} ({head.commit})"
            f"{_env_text(head)}\n`atelier loadtest max`, {args.connections} connections on {args.threads} wrk threads, "
            f"{args.workers} worker(s) "
            f"each, {args.duration:g} s runs after {args.warmup:g} s of warm-up, {args.rounds} rounds alternated, "
            f"medians; ids {args.ids} up to {max_id:,}\n" + table(rows))
    write_summary(out, text, summary)


def _env_text(side: Side) -> str:
    return "" if not side.env else " with " + " ".join(f"{k}={v}" for k, v in side.env.items())


if __name__ == "__main__":
    main()
