"""Parameter parsing on the read path, before and after the declarations (core/params.py), in process.

    python bench/params_parse.py [--base b78d027] [--rounds 201] [--number 20000]

Every GET parses its parameters: `/products/:id/styles` a path id, `/reviews` `product_id`, `sort`,
`page` and `count`. This times the base revision's functions (`parse_id`, `parse_paging`, loaded
from `git show BASE:atelier/core/params.py`) and the working tree's `Param.read` / `paging` on the
same requests in short rounds alternated A B B A ..., and prints the medians (ns per request)
and the median of the rounds' ratios (short alternated rounds: a neighbour's load drifts slowly,
so it weighs on both sides of a ratio alike). The query string is parsed once per request object
by `Request.query` in both (the same code), so it is warmed before timing: what differs is the
parameters' parsing alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import timeit
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from atelier.core.config import Settings  # noqa: E402
from atelier.core.http import Request  # noqa: E402
from atelier.core.params import paging  # noqa: E402
from atelier.products.contract import PRODUCT_ID  # noqa: E402
from atelier.reviews import contract as reviews  # noqa: E402
from atelier.server import create_app  # noqa: E402


def base_params(revision: str) -> Any:
    """The base revision's atelier/core/params.py as a module (its `.http` import resolves to this tree's)."""
    source = subprocess.run(["git", "show", f"{revision}:atelier/core/params.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("atelier.core.base_params")
    module.__package__ = "atelier.core"
    exec(compile(source, f"{revision}:atelier/core/params.py", "exec"), module.__dict__)
    return module


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--base", default="b78d027", help="revision to compare with (default b78d027)")
    args.add_argument("--rounds", type=int, default=201, help="alternated rounds per side (default 201)")
    args.add_argument("--number", type=int, default=20_000, help="requests per round (default 20000)")
    options = args.parse_args()
    old = base_params(options.base)
    app = create_app(Settings.from_env())
    max_count = app.settings.max_count

    styles = Request(app, "GET", "/products/40344/styles", "", {})
    styles.params = {"product_id": "40344"}
    listing = Request(app, "GET", "/reviews", "product_id=40344&sort=newest&page=2&count=10", {})
    assert listing.query  # parsed once, as by the first parameter a handler reads

    def old_styles() -> None:
        old.parse_id(styles.params["product_id"], "Error: invalid product_id provided")

    def new_styles() -> None:
        PRODUCT_ID.read(styles)

    def old_reviews() -> None:
        query = listing.query
        old.parse_id(query.get("product_id"), "Error: invalid product_id provided")
        sort = query.get("sort") or "relevant"
        if sort not in ("relevant", "helpful", "newest"):
            raise ValueError(sort)
        old.parse_paging(query, max_count)

    def new_reviews() -> None:
        reviews.PRODUCT_ID.read(listing)
        reviews.SORT.read(listing)
        paging(listing)

    print(f"{'parameters of':<28} {'base ns':>9} {'head ns':>9} {'head/base':>10}   "
          f"(medians of {options.rounds} rounds of {options.number:,}, alternated)")
    for label, base_fn, head_fn in (("GET /products/:id/styles", old_styles, new_styles),
                                    ("GET /reviews", old_reviews, new_reviews)):
        times: dict[str, list[float]] = {"base": [], "head": []}
        for round_ in range(options.rounds):
            order = [("base", base_fn), ("head", head_fn)]
            for side, fn in order if round_ % 2 == 0 else reversed(order):
                times[side].append(timeit.timeit(fn, number=options.number) / options.number * 1e9)
        ratios = [h / b for b, h in zip(times["base"], times["head"])]
        base, head = statistics.median(times["base"]), statistics.median(times["head"])
        print(f"{label:<28} {base:>9.0f} {head:>9.0f} {statistics.median(ratios):>10.2f}")


if __name__ == "__main__":
    main()
