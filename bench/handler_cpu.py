"""The read handlers' own CPU time, before and after, in process: no network, no database.

    python bench/handler_cpu.py [--base b78d027] [--rounds 9] [--number 50000]

Runs `App.handle` on `GET /reviews?product_id=N` and `GET /products/N/styles` with the database
read replaced by a coroutine that returns a fixed document, in one subprocess per revision (the
base's tree comes from `git archive`), alternated A B B A, and prints the medians in µs per
request and their ratio. What is left is what the revision's code costs per request: routing,
parameter parsing, the reader lookup, the response. An HTTP comparison (bench/compare_revisions.py
on branch edge) adds the server and the database around it, and their noise.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside each revision's tree: times App.handle with the document reads replaced.
PROBE = r"""
import asyncio, sys, time
from atelier.core.config import Settings
from atelier.core.http import Request
from atelier.server import create_app
import atelier.products.routes as product_routes
import atelier.reviews.queries as reviews

STYLES = b'{"product_id":"40344","results":[]}'

async def page(app, product_id, sort, first, last):
    return b'{"review_id":1}'

class Reader:
    async def get(self, key):
        return STYLES

async def document(app, column, product_id):
    return STYLES

reviews.page = page
if hasattr(product_routes, "_reader"):  # before products/queries.py
    product_routes._reader = lambda request, column: Reader()
else:
    import atelier.products.queries as products
    products.document = document

app = create_app(Settings.from_env())
number = int(sys.argv[1])

async def main():
    for target in ("/reviews?product_id=40344", "/products/40344/styles"):
        path, _, query = target.partition("?")
        started = time.process_time()
        for _ in range(number):
            response = await app.handle(Request(app, "GET", path, query, {}))
        assert response.status == 200, (target, response.status, response.body)
        print(target, (time.process_time() - started) / number * 1e6)

asyncio.run(main())
"""


def run(tree: Path, number: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(number)], cwd=tree, check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(tree), "ATELIER_METRICS": "0", "PATH": "/usr/bin:/bin"})
    return {line.split()[0]: float(line.split()[1]) for line in out.stdout.splitlines()}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--base", default="b78d027", help="revision to compare with (default b78d027)")
    args.add_argument("--rounds", type=int, default=9, help="alternated runs per side (default 9)")
    args.add_argument("--number", type=int, default=50_000, help="requests per run and endpoint (default 50000)")
    options = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="atelier-base-") as folder:
        base_tree = Path(folder)
        archive = subprocess.run(["git", "archive", options.base], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base_tree)], input=archive, check=True)
        times: dict[str, dict[str, list[float]]] = {"base": {}, "head": {}}
        for round_ in range(options.rounds):
            order = [("base", base_tree), ("head", ROOT)]
            for side, tree in order if round_ % 2 == 0 else reversed(order):
                for target, us in run(tree, options.number).items():
                    times[side].setdefault(target, []).append(us)
    print(f"{'request':<28} {'base µs':>8} {'head µs':>8} {'head/base':>10}   (CPU per request in App.handle, "
          f"medians of {options.rounds} alternated runs of {options.number:,})")
    for target in times["base"]:
        base, head = statistics.median(times["base"][target]), statistics.median(times["head"][target])
        print(f"{target:<28} {base:>8.2f} {head:>8.2f} {head / base:>10.3f}")


if __name__ == "__main__":
    main()
