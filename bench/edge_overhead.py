"""What the HTTP edge adds to a request, in process: nanoseconds per call of each step on the read path.

    python bench/edge_overhead.py [--repeat 7] [--number 200000]

Times, with the application's real router (every service's routes): the canonical path, the route
lookup, and the header list an answer is sent with (CORS included), for a request without `Origin`
(load generators, server-side clients) and with one (a browser on another origin). The figures are
the best of --repeat runs of --number calls (timeit's advice: the minimum is the least disturbed).
Compare them with the server's CPU time per request (bench/compare_revisions.py prints it).
"""

from __future__ import annotations

import argparse
import timeit

from atelier.core.config import Settings
from atelier.core.http import JSON, Response, canonical_path
from atelier.server import create_app


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--number", type=int, default=200_000)
    args = p.parse_args()
    app = create_app(Settings(database_url=None))
    router = app.router
    response = Response(200, b"{}", JSON)
    steps = {
        "canonical_path('/products/123/styles')": lambda: canonical_path("/products/123/styles"),
        "canonical_path('/api/fec2/hr-rfp/products/123/styles/')":
            lambda: canonical_path("/api/fec2/hr-rfp/products/123/styles/"),
        "router.match GET /products/123/styles": lambda: router.match("GET", "/products/123/styles"),
        "router.match GET /reviews": lambda: router.match("GET", "/reviews"),
        "wire_headers, no Origin": lambda: app.wire_headers(None, response),
        "wire_headers, Origin": lambda: app.wire_headers("https://shop.example", response),
        "the list sent before the edge (content-type only)": lambda: [("content-type", response.content_type),
                                                                     *response.headers],
    }
    width = max(len(name) for name in steps)
    print(f"{'step':<{width}}  ns per call (best of {args.repeat} x {args.number:,})")
    for name, step in steps.items():
        best = min(timeit.repeat(step, repeat=args.repeat, number=args.number)) / args.number
        print(f"{name:<{width}}  {best * 1e9:8.0f}")


if __name__ == "__main__":
    main()
