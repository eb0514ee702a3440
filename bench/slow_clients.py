"""Normal requests while slow and idle connections attack a directly exposed `atelier serve`.

    DATABASE_URL=postgresql://... python bench/slow_clients.py [--slow 5000 --idle 5000]
        [--rate 1000 --mix styles --runs 3 --duration 15 --workers 1]

Each round runs the same open-loop load twice, side by side: once alone, once while --slow
connections send headers a byte a second and --idle connections send nothing (both reopened as
soon as the server cuts them, as an attacker would). Measured in each run: the load's latency
(`atelier loadtest rate`, wrk, kept-alive connections), the latency of a new connection per request
(connect + request + answer, one every 20 ms: can a new client get in?), how long the server let
the hostile connections live, and the server's memory and CPU time. Reports medians over the
rounds. The attacking clients run on the same machine, in a process at the lowest CPU priority.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import (
    ROOT,
    SERVER_PIDS,
    highest_product_id,
    loadtest,
    median,
    parser,
    server,
    table,
    tree_cpu_seconds,
    write_summary,
)

from atelier.loadtest.slowloris import KINDS, Report, SlowClients


class Attack:
    """SlowClients in a process of its own at the lowest CPU priority (nice 19): the attackers of a real
    server run on other machines, so their own CPU time must not be taken from the server measured."""

    def __init__(self, port: int, slow: int, idle: int, silent: int) -> None:
        self.args = (port, slow, idle, silent)
        self.started = multiprocessing.Event()
        self.stopping = multiprocessing.Event()
        self.results: multiprocessing.Queue[tuple[dict[str, int], Report, float]] = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_attack, args=(*self.args, self.started, self.stopping,
                                                                     self.results), daemon=True)
        self.held: dict[str, int] = {}

    def start(self) -> None:
        self.process.start()
        if not self.started.wait(120):
            raise SystemExit("the attacking process did not open its connections within 120 s")

    def stop(self) -> tuple[dict[str, int], Report, float]:
        self.stopping.set()
        held, report, cpu = self.results.get(timeout=60)
        self.process.join(30)
        return held, report, cpu


def _attack(port: int, slow: int, idle: int, silent: int, started: Any, stopping: Any, results: Any) -> None:
    os.nice(19)
    clients = SlowClients("127.0.0.1", port, slow, idle, silent)
    clients.start()
    held = {kind: clients.count(kind) for kind in KINDS}
    started.set()
    cpu = time.process_time()
    stopping.wait()
    cpu = time.process_time() - cpu
    results.put((held, clients.stop(), cpu))


class NewConnectionProbe:
    """One request on a new connection every `every` seconds; records each one's latency or failure."""

    def __init__(self, url: str, path: str, every: float = 0.02, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path, self.every, self.timeout = path, every, timeout
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> NewConnectionProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("GET", self.path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
            except OSError:
                self.failures += 1
            finally:
                conn.close()
            self._stop.wait(self.every)

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        if not values:
            return {"count": 0, "failures": self.failures, "p50": None, "p99": None, "max": None}
        return {"count": len(values), "failures": self.failures, "p50": statistics.median(values),
                "p99": values[min(len(values) - 1, int(0.99 * len(values)))], "max": values[-1]}


def server_rss_mib(url: str) -> float | None:
    """Resident memory of the server's processes (main and workers), when this script started it."""
    pid = SERVER_PIDS.get(url)
    if pid is None:
        return None
    total = 0
    for proc in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def one_run(url: str, out: Path, name: str, args: Any, max_id: int, attack: Attack | None) -> dict[str, Any]:
    if attack is not None:
        attack.start()
    rss = server_rss_mib(url)
    pid = SERVER_PIDS.get(url)
    cpu = tree_cpu_seconds(pid) if pid else None
    report: Report | None = None
    held: dict[str, int] = {}
    attacker_cpu = None
    try:
        with NewConnectionProbe(url, "/products/1/styles") as probe:
            try:
                r = loadtest(url, out, name, "rate", "--rate", str(args.rate), "--mix", args.mix, "--max-id",
                             str(max_id), "--duration", str(args.duration), "--timeout", "10")
            except SystemExit as exc:  # wrk could not even finish: a server that let nobody in
                print(f"  the load failed: {str(exc).strip().splitlines()[-1]}", flush=True)
                r = {"requests_per_s": 0.0, "latency_ms": {k: None for k in ("p50", "p99", "max")}, "error_rate": 1.0}
        rss = max(rss or 0.0, server_rss_mib(url) or 0.0) or None
        if pid and cpu is not None:
            cpu = tree_cpu_seconds(pid) - cpu
    finally:
        if attack is not None:
            held, report, attacker_cpu = attack.stop()
    result = {"load": {"requests_per_s": r["requests_per_s"], **r["latency_ms"], "error_rate": r["error_rate"]},
              "new_connection": probe.summary(), "server_rss_mib": rss, "held_at_start": held,
              "server_cpu_s": cpu, "attacker_cpu_s": attacker_cpu}
    if report is not None:
        result["attack"] = {
            "opened": report.opened, "connect_failures": report.connect_failures,
            **{f"{kind}_cut_median_s": median(list(getattr(report.cut, kind))) for kind in KINDS},
            **{f"{kind}_cut_max_s": max(getattr(report.cut, kind), default=None) for kind in KINDS},
        }
    return result


def main() -> None:
    p = parser(__doc__)
    p.set_defaults(workers=1, runs=3, duration=15)
    p.add_argument("--slow", type=int, default=5000, help="slowloris connections (default 5000)")
    p.add_argument("--idle", type=int, default=5000, help="idle keep-alive connections (default 5000)")
    p.add_argument("--silent", type=int, default=0, help="connections that never send a byte (default 0)")
    p.add_argument("--rate", type=float, default=1000, help="normal requests/s (default 1000)")
    p.add_argument("--mix", default="styles")
    p.add_argument("--warmup", type=float, default=20, help="seconds of closed-loop load first (default 20)")
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "slow-clients"
    runs: dict[str, list[dict[str, Any]]] = {"alone": [], "under attack": []}
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        port = urlsplit(url).port or 80
        if args.warmup > 0:  # PostgreSQL's and the OS's caches: the first runs must not pay for them
            loadtest(url, out, "warmup", "max", "--mix", args.mix, "--max-id", str(max_id), "--duration",
                     str(args.warmup))
        for n in range(args.runs):
            for condition in runs:
                attack = Attack(port, args.slow, args.idle, args.silent) if condition != "alone" else None
                result = one_run(url, out, f"{condition.replace(' ', '-')}-{n + 1}", args, max_id, attack)
                runs[condition].append(result)
                print(f"  run {n + 1} {condition:<13} load p99 {result['load']['p99']} ms, new connection p99 "
                      f"{result['new_connection']['p99']} ms, held at start {result['held_at_start']}", flush=True)
    rows: list[list[Any]] = [["condition", "load req/s", "p50 ms", "p99 ms", "max ms", "errors %", "new conn p50 ms",
             "new conn p99 ms", "new conn max ms", "new conn failures", "server RSS MiB", "server CPU s"]]
    summary: dict[str, Any] = {}
    for condition, rs in runs.items():
        m = {
            "requests_per_s": median([r["load"]["requests_per_s"] for r in rs]),
            "p50": median([r["load"]["p50"] for r in rs]), "p99": median([r["load"]["p99"] for r in rs]),
            "max": median([r["load"]["max"] for r in rs]),
            "error_rate": median([r["load"]["error_rate"] for r in rs]),
            "new_p50": median([r["new_connection"]["p50"] for r in rs]),
            "new_p99": median([r["new_connection"]["p99"] for r in rs]),
            "new_max": median([r["new_connection"]["max"] for r in rs]),
            "new_failures": sum(r["new_connection"]["failures"] for r in rs),
            "server_rss_mib": median([r["server_rss_mib"] for r in rs]),
            "server_cpu_s": median([r["server_cpu_s"] for r in rs]),
            "runs": rs,
        }
        summary[condition] = m
        rows.append([condition, m["requests_per_s"], m["p50"], m["p99"], m["max"], 100 * (m["error_rate"] or 0),
                     m["new_p50"], m["new_p99"], m["new_max"], m["new_failures"], m["server_rss_mib"],
                     m["server_cpu_s"]])
    attacks = [r["attack"] for r in runs["under attack"]]

    def seconds(key: str, pick: Any = median) -> str:
        value = pick([a[key] for a in attacks if a[key] is not None] or [None])
        return "-" if value is None else f"{value:.2f} s"

    cuts = "; ".join(f"{kind} {seconds(f'{kind}_cut_median_s')} (median), {seconds(f'{kind}_cut_max_s', max)} "
                     "(longest)" for kind in KINDS if getattr(args, kind))
    text = (f"Normal requests alone and under {args.slow:,} slowloris + {args.idle:,} idle keep-alive + "
            f"{args.silent:,} silent connections (reopened when cut); {args.rate:g} req/s open loop, mix {args.mix}, "
            f"{args.duration:g} s, medians of {args.runs}; {args.workers} worker(s)\n" + table(rows) +
            f"\nhostile connections cut after: {cuts}; connections opened per run: "
            f"{median([a['opened'] for a in attacks])}; "
            f"attacker CPU per run (nice 19): {median([r['attacker_cpu_s'] for r in runs['under attack']]):.1f} s")
    write_summary(out, text, summary)


if __name__ == "__main__":
    main()
