"""How many coalesced read batches each reader should run at once (ATELIER_BATCH_IN_FLIGHT).

    DATABASE_URL=postgresql://... python bench/batch_in_flight.py [--values 1,2,7 --mixes reviews,reviews-meta]

One server per value runs side by side (idle ones cost nothing); runs alternate between them, so
slow drifts of the machine hit every value alike. Each run is a closed-loop `atelier loadtest max`
on one endpoint with random product ids over the whole range. Reports medians of requests/s and
p99, and the ratio of requests/s to the first value.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from typing import Any

from common import (
    ROOT,
    highest_product_id,
    loadtest,
    median,
    parser,
    scale_note,
    server,
    table,
    threads,
    write_summary,
)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--values", default="1,2,7", help="in-flight caps to compare (default 1,2,7; 7 was the old "
                                                     "default, the pool size minus one)")
    p.add_argument("--mixes", default="reviews,reviews-meta,styles,questions")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--warmup", type=float, default=20, help="seconds of the legacy mix per server first (default 20)")
    args = p.parse_args()
    if args.url:
        raise SystemExit("this script starts its own servers (one per value): drop --url")
    values = args.values.split(",")
    mixes = args.mixes.split(",")
    out = args.out or ROOT / "reports" / "bench" / "batch-in-flight"
    rps: dict[tuple[str, str], list[float]] = {(v, m): [] for v in values for m in mixes}
    p99: dict[tuple[str, str], list[float]] = {(v, m): [] for v in values for m in mixes}
    with ExitStack() as stack:
        urls = {v: stack.enter_context(server(None, args.workers, {"ATELIER_BATCH_IN_FLIGHT": v})) for v in values}
        max_id = args.max_id or highest_product_id(urls[values[0]])
        common = ["--max-id", str(max_id), "--connections", str(args.connections), "--no-html", *threads(args)]
        for v in values:
            loadtest(urls[v], out, f"warmup-{v}", "max", "--mix", "legacy", "--duration", str(args.warmup), *common)
        for i in range(args.runs):
            order = values if i % 2 == 0 else values[::-1]
            for mix in mixes:
                for v in order:
                    r = loadtest(urls[v], out, f"{mix}-{v}-{i + 1}", "max", "--mix", mix,
                                 "--duration", str(args.duration), *common)
                    rps[v, mix].append(r["requests_per_s"])
                    p99[v, mix].append(r["latency_ms"]["p99"])
                    print(f"  run {i + 1} {mix:<14} in flight {v:>2}  {r['requests_per_s']:>10,.1f} requests/s  "
                          f"p99 {r['latency_ms']['p99']:.2f} ms  errors {100 * r['error_rate']:.2f}%", flush=True)
    rows: list[list[Any]] = [["endpoint", "in flight", "requests/s", "p99 ms", f"ratio to {values[0]}",
                              "runs (requests/s)"]]
    summary = {}
    for mix in mixes:
        base = statistics.median(rps[values[0], mix])  # every run gives a figure
        for v in values:
            m = statistics.median(rps[v, mix])
            rows.append([mix, v, m, median(p99[v, mix]), f"{m / base:.2f}",
                         " ".join(f"{x:,.0f}" for x in rps[v, mix])])
            summary[f"{mix}/{v}"] = {"requests_per_s": m, "p99_ms": median(p99[v, mix]), "runs": rps[v, mix]}
    text = (f"Batches in flight per reader ({args.connections} connections, {args.duration:g} s runs, medians of "
            f"{args.runs}, {args.workers} workers; {scale_note(max_id)})\n" + table(rows))
    write_summary(out, text, {"configs": summary, "max_id": max_id, "workers": args.workers})


if __name__ == "__main__":
    main()
