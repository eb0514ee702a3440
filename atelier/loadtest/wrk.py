"""Running wrk (Debian's `wrk` package) with atelier's Lua engine (wrk.lua) and reading its result.

wrk is a C load generator. The engine runs one connection per wrk thread so that it can pair
every response with its request and time it (see wrk.lua). A closed loop can instead share a few
threads among its connections (cheaper): the engine then only counts answers, and latency comes
from wrk's own record, which wrk 4 "corrects" for coordinated omission before handing it over
(results.py says how, and so does every result). Generator CPU per request on the 2-core
machine: about 23 µs closed loop with 2 shared threads, 57 µs with a thread per connection
(bench/latency_sources.py, 32 connections), 70-90 µs open loop; k6 takes 200-300 µs.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import orjson

from .mixes import Mix

RESOLUTION = 50  # histogram buckets per factor e of latency: each bucket is 2% wide
# Percentiles read from wrk's own record of every response (shared threads): the report's
# percentiles and its latency distribution. Each costs wrk one pass over its record (at most
# --timeout in µs entries), so a few dozen cost well under a second.
QUANTILES = (1, 5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 95, 97, 98, 99, 99.5, 99.7, 99.8, 99.9, 99.95, 99.99,
             99.999)
RESULT_PREFIX = "ATELIER-RESULT "
MAX_CONNECTIONS = 512
START_LEAD_S = 0.3  # open loop: time for wrk to start its threads and connect before the schedule


class ToolMissing(RuntimeError):
    pass


@dataclass
class Plan:
    """One wrk run: closed loop when rate is 0, else `rate` requests/s scheduled for `duration` s."""

    url: str
    mix: Mix
    ranges: dict[str, tuple[int, int]]
    duration: float
    connections: int
    rate: float = 0.0
    timeout: float = 2.0  # a response slower than this counts as an error (timeout)
    seed: int = 1
    threads: int | None = None  # None: one per connection (exact latency); fewer: cheaper, closed loop only

    @property
    def exact(self) -> bool:
        return self.threads is None or self.threads >= self.connections


@dataclass
class Raw:
    """What the engine measured, plus the generator's own CPU time."""

    data: dict[str, Any]
    cpu_seconds: float
    wall_seconds: float
    window_seconds: float  # the measured window: the schedule (open loop) or wrk's run (closed)
    commands: list[list[str]]


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise ToolMissing("wrk is not installed: `apt-get install -y wrk` (or run bench/install-tools.sh)")
    return path


def version() -> str:
    out = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True).stdout
    return out.split("Copyright")[0].strip() or "wrk"


_PLAIN = frozenset(" /?&=_-.{}:,[]@")


def _lua(value: Any) -> str:
    """A Python value as a Lua literal (dicts, lists, numbers, strings, bytes, booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nil"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        plain = (chr(b) if b < 128 and (chr(b).isalnum() or chr(b) in _PLAIN) else f"\\{b:03d}" for b in value)
        return '"' + "".join(plain) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def script(plan: Plan, t0_us: float, t_end_us: float) -> str:
    endpoints = []
    cum = 0.0
    for endpoint, weight in plan.mix.parts:
        cum += weight
        head, _, tail = endpoint.path.partition("{id}")
        headers = {"Content-Type": "application/json"} if endpoint.body is not None else {}
        body_head, _, body_tail = (endpoint.body or b"").partition(b"{id}")
        templated_body = endpoint.body is not None and b"{id}" in endpoint.body
        endpoints.append({"cum": cum, "method": endpoint.method, "head": head, "tail": tail,
                          "kind": endpoint.ids if "{id}" in endpoint.path or templated_body else "",
                          "headers": headers, "body": None if templated_body else endpoint.body,
                          "bhead": body_head if templated_body else None, "btail": body_tail,
                          "cookie": endpoint.path == "/cart"})
    endpoints[-1]["cum"] = 2.0  # never fall off the end through rounding
    config = {
        "rate": plan.rate, "connections": plan.connections, "exact": plan.exact, "t0": t0_us, "t_end": t_end_us,
        "timeout_us": plan.timeout * 1e6, "resolution": RESOLUTION, "seed": plan.seed, "quantiles": QUANTILES,
        "ranges": {k: list(v) for k, v in plan.ranges.items()}, "endpoints": endpoints,
    }
    engine = resources.files("atelier.loadtest").joinpath("wrk.lua").read_text(encoding="utf-8")
    return f"local C = {_lua(config)}\n{engine}"


def run(plan: Plan) -> Raw:
    """Runs wrk once; bounded: wrk stops by itself, and is killed 30 s after it should have."""
    if not 1 <= plan.connections <= MAX_CONNECTIONS:
        raise ValueError(f"connections must be between 1 and {MAX_CONNECTIONS}")
    open_loop = plan.rate > 0
    if open_loop and not plan.exact:
        raise ValueError("an open-loop (rate) run needs one thread per connection")
    threads = plan.connections if plan.exact else max(1, plan.threads or 1)
    if plan.connections % threads:
        raise ValueError(f"{plan.connections} connections cannot be shared evenly by {threads} threads")
    base = urlsplit(plan.url)
    target = f"{base.scheme}://{base.netloc}/"
    lead = START_LEAD_S if open_loop else 0.0
    grace = min(max(plan.timeout, 1.0), 3.0) if open_loop else 0.0  # let the last requests finish
    wrk_seconds = max(1, math.ceil(lead + plan.duration + grace))
    t0 = time.monotonic_ns() / 1000 + lead * 1e6
    t_end = t0 + plan.duration * 1e6
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="atelier-wrk-", delete=False) as f:
        f.write(script(plan, t0, t_end))
    command = [wrk_path(), "-t", str(threads), "-c", str(plan.connections), "-d", f"{wrk_seconds}s",
               "--timeout", f"{max(2, math.ceil(plan.timeout))}s", "-s", f.name, target]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=wrk_seconds + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.unlink(f.name)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((ln for ln in out.splitlines() if ln.startswith(RESULT_PREFIX)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    data = orjson.loads(line[len(RESULT_PREFIX):])
    if not plan.exact:  # the engine could not time answers: wrk's count of those slower than --timeout
        data["late_ok"] = int((data.get("errors") or {}).get("timeout", 0))
    # Open loop, the window runs from the first scheduled send to the end of the schedule or, if
    # the server fell behind, to its last answer; closed loop, it is wrk's run.
    window = max(plan.duration, data["last_s"]) if open_loop else data["duration_us"] / 1e6
    return Raw(data, cpu, wall, window, [command])
