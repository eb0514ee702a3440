"""The highest requests/s (closed loop) per endpoint mix and id distribution.

    DATABASE_URL=postgresql://... python bench/max_throughput.py [--runs 5 --duration 10]
        [--mixes product,legacy,shopper] [--ids uniform,recent] [--connections 64]

Reports medians of requests/s, latency p50/p99 and the load generator's CPU per configuration.
"""

from __future__ import annotations

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
    p.add_argument("--mixes", default="product,legacy,shopper")
    p.add_argument("--ids", default="uniform,recent")
    p.add_argument("--connections", type=int, default=64)
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "max-throughput"
    configs = [(m, i) for m in args.mixes.split(",") for i in args.ids.split(",")]
    runs: dict[str, list[dict]] = {f"{m}/{i}": [] for m, i in configs}
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        for n in range(args.runs):
            for mix, ids in configs:
                key = f"{mix}/{ids}"
                r = loadtest(url, out, f"{mix.strip('/').replace('/', '_')}-{ids}-{n + 1}", "max", "--mix", mix,
                             "--ids", ids, "--max-id", str(max_id), "--duration", str(args.duration),
                             "--connections", str(args.connections), *threads(args))
                runs[key].append(r)
                print(f"  run {n + 1} {key:<18} {r['requests_per_s']:>10,.1f} requests/s  "
                      f"errors {100 * r['error_rate']:.2f}%", flush=True)
    rows: list[list[Any]] = [["mix/ids", "requests/s", "successes/s", "p50 ms", "p99 ms", "errors %",
                              "generator CPU %"]]
    summary = {}
    for key, rs in runs.items():
        error_rate = median([r["error_rate"] for r in rs])
        assert error_rate is not None  # --runs >= 1
        m = {
            "requests_per_s": median([r["requests_per_s"] for r in rs]),
            "successes_per_s": median([r["successes_per_s"] for r in rs]),
            "p50_ms": median([r["latency_ms"]["p50"] for r in rs]),
            "p99_ms": median([r["latency_ms"]["p99"] for r in rs]),
            "error_rate": error_rate,
            "generator_cpu_percent": median([r["generator_cpu"]["percent_of_core"] for r in rs]),
            "runs": [r["requests_per_s"] for r in rs],
        }
        summary[key] = m
        rows.append([key, m["requests_per_s"], m["successes_per_s"], m["p50_ms"], m["p99_ms"],
                     100 * error_rate, m["generator_cpu_percent"]])
    text = (f"Highest throughput (`atelier loadtest max`, {args.connections} connections, {args.duration:g} s, "
            f"medians of {args.runs}); {args.workers} workers; {scale_note(max_id)}\n" + table(rows))
    write_summary(out, text, {"configs": summary, "max_id": max_id, "workers": args.workers})


if __name__ == "__main__":
    main()
