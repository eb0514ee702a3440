"""Reads under a concurrent write stream, and every write accounted for afterwards.

    DATABASE_URL=postgresql://... python bench/reviews_writes.py [--read-rate 4000 --duration 30]

Runs three open-loop streams at once against one server: reads (`--read-mix`, default reviews +
reviews-meta) at --read-rate, POST /reviews at --post-rate (100/s) and PUT /reviews/:id/helpful at
--put-rate (500/s), after --warmup seconds of the same streams. Then counts in the database: the
new reviews must equal the 201s, and the helpfulness sum must have grown by exactly the 204s.
Reports the reads' p50/p99 (median of runs).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from common import ROOT, highest_product_id, loadtest, median, parser, scale_note, server, table, write_summary

TOTALS = "SELECT count(*), coalesce(sum(helpfulness), 0) FROM reviews.review"


def totals() -> tuple[int, int]:
    async def go() -> tuple[int, int]:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            row = await conn.fetchrow(TOTALS)
            return int(row[0]), int(row[1])
        finally:
            await conn.close()

    return asyncio.run(go())


def successes(result: dict, status: str) -> int:
    return int(result.get("status", {}).get(status, 0))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--read-mix", default="reviews,reviews-meta")
    p.add_argument("--read-rate", type=int, default=4000)
    p.add_argument("--post-rate", type=int, default=100)
    p.add_argument("--put-rate", type=int, default=500)
    p.add_argument("--warmup", type=float, default=20, help="seconds of the same streams before the runs (default 20)")
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "reviews-writes"
    rows = [["run", "read mix", "reads/s", "read p50 ms", "read p99 ms", "read errors %", "POST 201",
             "new reviews", "PUT 204", "helpfulness added", "accounted"]]
    reads_p99, reads_p50 = [], []
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)

        def streams(tag: str, duration: float) -> tuple[list[dict], dict, dict]:
            """The read, POST and PUT streams at once for `duration` seconds."""
            common = ["--max-id", str(max_id), "--duration", str(duration)]
            mixes = args.read_mix.split(",")
            with ThreadPoolExecutor(len(mixes) + 2) as pool:
                jobs = [pool.submit(loadtest, url, out, f"reads-{mix}-{tag}", "rate", "--mix", mix,
                                    "--rate", str(args.read_rate // len(mixes)), *common) for mix in mixes]
                post = pool.submit(loadtest, url, out, f"posts-{tag}", "rate", "--mix", "post-review",
                                   "--rate", str(args.post_rate), *common)
                put = pool.submit(loadtest, url, out, f"helpful-{tag}", "rate", "--mix", "helpful",
                                  "--rate", str(args.put_rate), *common)
                return [j.result() for j in jobs], post.result(), put.result()

        if args.warmup > 0:  # caches, prepared statements and compiled functions of a fresh server
            streams("warmup", args.warmup)
        for n in range(args.runs):
            before = totals()
            reads, post_result, put_result = streams(str(n + 1), args.duration)
            after = totals()
            created, voted = successes(post_result, "201"), successes(put_result, "204")
            ok = after[0] - before[0] == created and after[1] - before[1] == voted
            p50 = max(r["latency_ms"]["p50"] for r in reads)
            p99 = max(r["latency_ms"]["p99"] for r in reads)
            reads_p50.append(p50)
            reads_p99.append(p99)
            rows.append([str(n + 1), args.read_mix, f"{sum(r['requests_per_s'] for r in reads):,.0f}", f"{p50:.2f}",
                         f"{p99:.2f}", f"{100 * max(r['error_rate'] for r in reads):.2f}", str(created),
                         str(after[0] - before[0]), str(voted), str(after[1] - before[1]), "yes" if ok else "NO"])
            print(table(rows[-1:]), flush=True)
    text = "\n".join([scale_note(max_id), table(rows),
                      f"median read p50 {median(reads_p50):.2f} ms, p99 {median(reads_p99):.2f} ms"])
    print(text)
    write_summary(out, text, {"rows": rows})


if __name__ == "__main__":
    main()
