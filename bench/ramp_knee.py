"""The knee: the highest constant rate with under 1% errors and p99 under a limit, per mix.

    DATABASE_URL=postgresql://... python bench/ramp_knee.py [--rates 1k,2k,4k,8k,16k,32k]
        [--p99-ms 100] [--runs 3 --duration 10] [--mixes legacy]
"""

from __future__ import annotations

from typing import Any

from common import ROOT, highest_product_id, loadtest, median, parser, scale_note, server, table, write_summary


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rates", default="1k,2k,4k,8k,16k,32k")
    p.add_argument("--p99-ms", type=float, default=100)
    p.add_argument("--mixes", default="legacy")
    p.set_defaults(runs=3)
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "ramp-knee"
    mixes = args.mixes.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in mixes}
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        for n in range(args.runs):
            for mix in mixes:
                r = loadtest(url, out, f"{mix.strip('/').replace('/', '_')}-{n + 1}", "ramp", "--rates", args.rates,
                             "--p99-ms", str(args.p99_ms), "--mix", mix, "--max-id", str(max_id),
                             "--duration", str(args.duration))
                runs[mix].append(r)
                print(f"  run {n + 1} {mix:<10} knee {r['knee']['rate'] if r['knee'] else 'none'}", flush=True)
    rows: list[list[Any]] = [["mix", "knee rate/s (median)", "knees", "highest achieved/s (median)"]]
    summary = {}
    for mix, rs in runs.items():
        knees = [r["knee"]["rate"] if r["knee"] else 0.0 for r in rs]
        best = [max(s["requests_per_s"] for s in r["steps"]) for r in rs]
        summary[mix] = {"knee": median(knees), "knees": knees, "highest_achieved": median(best)}
        rows.append([mix, median(knees), " ".join(f"{k:,.0f}" for k in knees), median(best)])
    text = (f"Ramp to the knee (rates {args.rates}, {args.duration:g} s steps, p99 <= {args.p99_ms:g} ms, "
            f"errors < 1%, {args.runs} ramps); {args.workers} workers; {scale_note(max_id)}\n" + table(rows))
    write_summary(out, text, {"mixes": summary, "rates": args.rates, "p99_ms": args.p99_ms, "max_id": max_id})


if __name__ == "__main__":
    main()
