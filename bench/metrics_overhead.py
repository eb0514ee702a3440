"""What metrics cost, with metrics on, off (ATELIER_METRICS=0), and on with the dashboard open
(/metrics.json polled every second), measured two ways:
- the highest requests/s (closed loop, `max`), which on a shared machine is noisy;
- the server's own CPU time per request at a fixed rate (`rate`, open loop), read from /proc
  for the server's processes, which other load on the machine disturbs much less.

    DATABASE_URL=postgresql://... python bench/metrics_overhead.py [--runs 5 --duration 10 --mix product]

Two servers run side by side (metrics on, metrics off); runs alternate between them, so slow
drifts of the machine hit both alike. Reports medians and the ratios to "off".
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any
from urllib.request import urlopen

from common import (
    ROOT,
    SERVER_PIDS,
    highest_product_id,
    loadtest,
    parser,
    scale_note,
    server,
    table,
    threads,
    tree_cpu_seconds,
    write_summary,
)


def poll_dashboard(url: str, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        with urlopen(url + "/metrics.json", timeout=5) as r:
            r.read()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mix", default="product", help="endpoint mix (default product: the cheapest request, "
                                                    "where a per-request cost shows most)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--rate", type=float, default=3000, help="rate of the CPU-per-request runs (default 3000)")
    args = p.parse_args()
    if args.url:
        raise SystemExit("this script starts its own two servers (metrics on and off): drop --url")
    out = args.out or ROOT / "reports" / "bench" / "metrics-overhead"
    with server(None, args.workers) as on_url, server(None, args.workers, {"ATELIER_METRICS": "0"}) as off_url:
        max_id = args.max_id or highest_product_id(on_url)
        common = ["max", "--mix", args.mix, "--max-id", str(max_id), "--duration", str(args.duration),
                  "--connections", str(args.connections), "--no-html", *threads(args)]
        rps: dict[str, list[float]] = {"on": [], "off": [], "on+dashboard": []}
        cpu_us: dict[str, list[float]] = {"on": [], "off": [], "on+dashboard": []}
        fixed = ["rate", "--rate", str(args.rate), "--mix", args.mix, "--max-id", str(max_id), "--duration",
                 str(args.duration), "--no-html"]
        for i in range(args.runs):
            order = ["on", "off", "on+dashboard"] if i % 2 == 0 else ["on+dashboard", "off", "on"]
            for mode in order:
                url = off_url if mode == "off" else on_url
                stop = threading.Event()
                poller = None
                if mode == "on+dashboard":
                    poller = threading.Thread(target=poll_dashboard, args=(url, stop), daemon=True)
                    poller.start()
                result = loadtest(url, out, f"{mode.replace('+', '-')}-{i + 1}", *common)
                time.sleep(1)
                cpu_before = tree_cpu_seconds(SERVER_PIDS[url])
                fixed_result = loadtest(url, out, f"{mode.replace('+', '-')}-rate-{i + 1}", *fixed)
                cpu = tree_cpu_seconds(SERVER_PIDS[url]) - cpu_before
                stop.set()
                if poller:
                    poller.join()
                rps[mode].append(result["requests_per_s"])
                cpu_us[mode].append(1e6 * cpu / max(1, fixed_result["completed"]))
                print(f"  run {i + 1} metrics {mode:<13} {result['requests_per_s']:>10,.1f} requests/s   "
                      f"{cpu_us[mode][-1]:6.1f} µs server CPU per request at {args.rate:g}/s", flush=True)
                time.sleep(1)
    med = {mode: statistics.median(v) for mode, v in rps.items()}  # every run gives both figures
    cpu_med = {mode: statistics.median(v) for mode, v in cpu_us.items()}
    rows: list[list[Any]] = [["metrics", "max requests/s", "ratio to off", f"server CPU µs/request at {args.rate:g}/s",
                              "ratio to off"]]
    for mode in ("off", "on", "on+dashboard"):
        rows.append([mode, med[mode], f"{med[mode] / med['off']:.3f}", cpu_med[mode],
                     f"{cpu_med[mode] / cpu_med['off']:.3f}"])
    runs = "\n".join(f"  {mode:<13} requests/s: {' '.join(f'{v:,.0f}' for v in rps[mode])}   "
                     f"µs/request: {' '.join(f'{v:.1f}' for v in cpu_us[mode])}" for mode in rps)
    text = (f"Metrics overhead ({args.mix} mix, {args.duration:g} s runs, medians of {args.runs}, {args.workers} "
            f"workers; {scale_note(max_id)})\n" + table(rows) + "\nruns:\n" + runs)
    write_summary(out, text, {"max_requests_per_s": med, "server_cpu_us_per_request": cpu_med,
                              "runs": {"requests_per_s": rps, "cpu_us_per_request": cpu_us},
                              "rps_ratio_on_off": med["on"] / med["off"],
                              "cpu_ratio_on_off": cpu_med["on"] / cpu_med["off"],
                              "cpu_ratio_dashboard_off": cpu_med["on+dashboard"] / cpu_med["off"], "max_id": max_id,
                              "mix": args.mix, "rate": args.rate, "duration": args.duration,
                              "workers": args.workers})


if __name__ == "__main__":
    main()
