"""Latency at a constant arrival rate (open loop, from the scheduled send time), per mix.

    DATABASE_URL=postgresql://... python bench/rate_latency.py [--rate 2000 --runs 5 --duration 10]
        [--mixes legacy,shopper]
"""

from __future__ import annotations

from typing import Any

from common import ROOT, highest_product_id, loadtest, median, parser, scale_note, server, table, write_summary


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--mixes", default="legacy,shopper")
    p.add_argument("--ids", default="uniform")
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "rate-latency"
    mixes = args.mixes.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in mixes}
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        for n in range(args.runs):
            for mix in mixes:
                r = loadtest(url, out, f"{mix.strip('/').replace('/', '_')}-{n + 1}", "rate", "--rate",
                             str(args.rate), "--mix", mix, "--ids", args.ids, "--max-id", str(max_id),
                             "--duration", str(args.duration))
                runs[mix].append(r)
                lat = r["latency_ms"]
                print(f"  run {n + 1} {mix:<10} p50 {lat['p50']} ms  p99 {lat['p99']} ms  "
                      f"throughput {100 * r['throughput']:.2f}%", flush=True)
    rows: list[list[Any]] = [["mix", "achieved/s", "avg ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "throughput %",
                              "generator CPU %"]]
    summary = {}
    for mix, rs in runs.items():
        m = {k: median([r["latency_ms"][k] for r in rs]) for k in ("avg", "p50", "p90", "p99", "max")}
        m["requests_per_s"] = median([r["requests_per_s"] for r in rs])
        throughput = median([r["throughput"] for r in rs])
        assert throughput is not None  # --runs >= 1
        m["throughput"] = throughput
        m["generator_cpu_percent"] = median([r["generator_cpu"]["percent_of_core"] for r in rs])
        summary[mix] = m
        rows.append([mix, m["requests_per_s"], m["avg"], m["p50"], m["p90"], m["p99"], m["max"],
                     100 * throughput, m["generator_cpu_percent"]])
    text = (f"Latency at {args.rate:,.0f} requests/s (open loop, {args.duration:g} s, ids {args.ids}, medians of "
            f"{args.runs}); {args.workers} workers; {scale_note(max_id)}\n" + table(rows))
    write_summary(out, text, {"rate": args.rate, "mixes": summary, "max_id": max_id, "workers": args.workers})


if __name__ == "__main__":
    main()
