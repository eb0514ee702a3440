"""Do the two ways `atelier loadtest max` times requests agree, and what does each cost?

    DATABASE_URL=postgresql://... python bench/latency_sources.py [--runs 5 --duration 10]
        [--mix styles] [--connections 32] [--workers 1]

Alternates, on one server, closed-loop runs with shared wrk threads (`--threads 2`: wrk times
every response itself, to the µs) and runs with a thread per connection (`--threads` equal to
`--connections`: the Lua engine times every request, in buckets 2% wide, and records latency
over time). Reports medians of requests/s, p50, p99, p99.9 and the generator's CPU per request
for each, and the ratios of the second to the first.
"""

from __future__ import annotations

from typing import Any

from common import ROOT, loadtest, median, parser, server, table, write_summary


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mix", default="styles", help="endpoint or mix to load (default styles)")
    p.add_argument("--connections", type=int, default=32, help="connections of every run (default 32)")
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "latency-sources"
    modes = {"shared threads (wrk's record)": "2", "thread per connection (engine)": str(args.connections)}
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    with server(args.url, args.workers) as url:
        loadtest(url, out, "warm-up", "max", "--mix", args.mix, "--duration", str(args.duration),
                 "--connections", str(args.connections), "--no-html")
        for n in range(args.runs):
            for mode, threads in modes.items():  # alternated: both see the same machine, run after run
                r = loadtest(url, out, f"threads-{threads}-{n + 1}", "max", "--mix", args.mix, "--duration",
                             str(args.duration), "--connections", str(args.connections), "--threads", threads,
                             "--no-html")
                runs[mode].append(r)
                print(f"  run {n + 1} {mode:<32} {r['requests_per_s']:>10,.1f} requests/s  "
                      f"p99 {r['latency_ms']['p99']} ms", flush=True)
    rows: list[list[Any]] = [["timing", "requests/s", "p50 ms", "p99 ms", "p99.9 ms", "generator µs/request"]]
    summary = {}
    for mode, rs in runs.items():
        m = {
            "requests_per_s": median([r["requests_per_s"] for r in rs]),
            "p50_ms": median([r["latency_ms"]["p50"] for r in rs]),
            "p99_ms": median([r["latency_ms"]["p99"] for r in rs]),
            "p999_ms": median([r["latency_ms"]["p99.9"] for r in rs]),
            "generator_us_per_request": median([1e6 * r["generator_cpu"]["seconds"] / max(1, r["completed"])
                                                for r in rs]),
            "latency_source": rs[0]["latency_source"],
        }
        summary[mode] = m
        rows.append([mode, m["requests_per_s"], m["p50_ms"], m["p99_ms"], m["p999_ms"], m["generator_us_per_request"]])
    first, second = (summary[m] for m in modes)
    ratios = ["ratio (engine / wrk)"] + [
        (b / a if isinstance(a, float | int) and isinstance(b, float | int) and a else "–")
        for a, b in ((first[k], second[k]) for k in ("requests_per_s", "p50_ms", "p99_ms", "p999_ms",
                                                      "generator_us_per_request"))]
    rows.append(ratios)
    text = (f"Latency timed by wrk (shared threads) and by the engine (a thread per connection), `atelier loadtest "
            f"max --mix {args.mix} --connections {args.connections}`, {args.duration:g} s runs alternated, medians of "
            f"{args.runs}, after a warm-up run; {args.workers} workers\n" + table(rows))
    write_summary(out, text, {"modes": summary, "mix": args.mix, "connections": args.connections,
                              "workers": args.workers, "runs": args.runs})


if __name__ == "__main__":
    main()
