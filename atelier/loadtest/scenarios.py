"""The scenarios: `rate` (open loop), `max` (closed loop) and `ramp` (stepping rates to the knee)."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import wrk
from .mixes import id_ranges, mix
from .results import errors_fail, passes, ramp_result, summarize

DEFAULT_RATES = (1000, 2000, 4000, 8000, 16000, 32000)
MAX_RUN_SECONDS = 600  # one run
MAX_TOTAL_SECONDS = 3600  # a whole ramp


@dataclass
class Options:
    url: str
    mix: str = "legacy"
    ids: str = "uniform"
    # The full id range of each kind the mix draws (see discover.py) and where they came from.
    id_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    ids_source: str = ""
    duration: float = 10.0
    rate: float = 1000.0
    connections: int | None = None  # None: 64 closed loop, or enough for the rate open loop
    # Closed loop: wrk threads. None: one per connection, so the engine times every request (and
    # latency over time). Fewer cost the generator about 2.5x less CPU per request (bench/
    # latency_sources.py), but latency then comes from wrk's record, which wrk "corrects" (results.py).
    threads: int | None = None
    timeout: float = 2.0
    seed: int = 1
    rates: tuple[float, ...] = DEFAULT_RATES
    p99_ms: float = 100.0
    max_error_rate: float = 0.01
    pause: float = 2.0  # between ramp steps, for the server to drain
    keep_going: bool = False  # ramp: run every step even after one fails


def open_loop_connections(rate: float) -> int:
    """Enough connections that each sends at most ~250 requests/s (one every 4 ms or more)."""
    return max(16, min(wrk.MAX_CONNECTIONS, math.ceil(rate / 250)))


def _check(o: Options) -> None:
    if not 0 < o.duration <= MAX_RUN_SECONDS:
        raise ValueError(f"--duration must be in (0, {MAX_RUN_SECONDS}] seconds")
    if o.timeout <= 0:
        raise ValueError("--timeout must be positive")


def _plan(o: Options, rate: float) -> wrk.Plan:
    if rate > 0:
        connections, threads = o.connections or open_loop_connections(rate), None
    else:
        connections = o.connections or 64
        threads = min(o.threads or connections, connections)
        connections -= connections % threads  # wrk gives every thread the same number of connections
    return wrk.Plan(url=o.url, mix=mix(o.mix), ranges=id_ranges(o.id_ranges, o.ids), duration=o.duration,
                    connections=connections, rate=rate, timeout=o.timeout, seed=o.seed, threads=threads)


def _run(o: Options, scenario: str, rate: float) -> dict[str, Any]:
    plan = _plan(o, rate)
    raw = wrk.run(plan)
    return summarize(raw, plan, scenario, o.mix, o.ids, o.id_ranges, o.ids_source, wrk.version())


def run_rate(o: Options) -> dict[str, Any]:
    _check(o)
    if o.rate <= 0:
        raise ValueError("--rate must be positive")
    return _run(o, "rate", o.rate)


def run_max(o: Options) -> dict[str, Any]:
    _check(o)
    return _run(o, "max", 0.0)


def run_ramp(o: Options, progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> dict[str, Any]:
    _check(o)
    rates = sorted(o.rates)
    if not rates or rates[0] <= 0:
        raise ValueError("--rates must be positive numbers")
    if len(rates) * (o.duration + o.pause + 4) > MAX_TOTAL_SECONDS:
        raise ValueError(f"a ramp is limited to {MAX_TOTAL_SECONDS} s: fewer --rates or a shorter --duration")
    steps = []
    for i, rate in enumerate(rates):
        if i:
            time.sleep(o.pause)
        step = _run(replace(o), "rate", rate)
        ok = passes(step, o.max_error_rate, o.p99_ms)
        steps.append(step)
        lat = step["latency_ms"]
        progress(f"  {rate:>8,.0f}/s offered: {step['requests_per_s']:>9,.1f}/s achieved, p99 {lat['p99']} ms, "
                 f"errors {100 * step['error_rate']:.2f}% -> {'holds' if ok else 'fails'}")
        if i == 0 and errors_fail(step, o.max_error_rate):
            break  # errors at the lowest rate: the target is not answering as it should, not loaded
        if not ok and not o.keep_going:
            break
    return ramp_result(steps, o.max_error_rate, o.p99_ms)
