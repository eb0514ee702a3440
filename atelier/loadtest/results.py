"""Turning the engine's raw figures into a run's result: a plain dict, saved as JSON.

Definitions (the same for every scenario):
- errors: responses with status >= 400, successful responses slower than --timeout, requests
  lost to socket errors (connect, read, write) and, open loop, requests still unanswered at the
  end or never sent (their connection was still waiting): there errors = offered - successes;
- successes: responses with status < 400 within the timeout;
- offered: the requests the schedule asked for (open loop: rate x duration) or, closed loop,
  the requests sent; throughput = successes / offered (the legacy teams' definition);
- requests/s: responses per second of the measured window (open loop: the schedule, stretched
  to the last answer when the server fell behind);
- latency: of every response, timed by the engine from the send (open loop: from the scheduled
  send time) to the end of the answer, into buckets 2% wide. Closed loop with fewer wrk threads
  than connections (--threads) the engine cannot pair answers with requests, and latency is wrk's
  own record instead: every response within --timeout to the µs, plus the synthetic samples wrk
  4 adds before it reports (its coordinated-omission correction: an answer that took n mean
  intervals adds samples at n-1, n-2, ... intervals), so its percentiles and mean run above those
  of the responses alone. `latency_source` says which, in words, in every result.
"""

from __future__ import annotations

import math
import os
import platform
import time
from typing import Any

from .. import __version__
from .wrk import QUANTILES, RESOLUTION, Plan, Raw

PERCENTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p99.9", 0.999))
FORMAT = 2  # bump when the JSON changes incompatibly (2: id ranges, latency_source, distribution)


def bucket_ms(b: int) -> float:
    """The middle of latency bucket `b` (2% wide), in milliseconds."""
    return math.exp((b + 0.5) / RESOLUTION) / 1000


def percentiles(hist: dict[Any, int], qs: tuple[tuple[str, float], ...] = PERCENTILES,
                cap_ms: float | None = None) -> dict[str, float | None]:
    items = sorted((int(b), n) for b, n in hist.items() if n)
    total = sum(n for _, n in items)
    out: dict[str, float | None] = {}
    for name, q in qs:
        if total == 0:
            out[name] = None
            continue
        rank = max(1, math.ceil(q * total))
        seen = 0
        for b, n in items:
            seen += n
            if seen >= rank:
                v = bucket_ms(b)
                out[name] = round(min(v, cap_ms) if cap_ms is not None else v, 3)
                break
    return out


def _latency(d: dict[str, Any], plan: Plan, completed: int
             ) -> tuple[dict[str, float | None], list[list[float]], str]:
    """Latency summary (ms), distribution ([percent, ms] pairs) and, in words, what it comes from."""
    qs = tuple((f"{q:g}", q / 100) for q in QUANTILES)
    wrk_record = d.get("wrk_latency")
    if wrk_record is not None:  # closed loop, shared threads: wrk's record of every response
        timed = max(0, completed - int(d["late_ok"]))
        at = {f"{q:g}": wrk_record["quantiles"].get(str(i + 1)) for i, q in enumerate(QUANTILES)}
        values = {k: None if v is None or not timed else round(v / 1000, 3) for k, v in at.items()}
        latency = {"avg": round(wrk_record["mean"] / 1000, 3) if timed else None,
                   **{name: values[f"{100 * q:g}"] for name, q in PERCENTILES},
                   "max": round(wrk_record["max"] / 1000, 3) if timed else None}
        source = (f"wrk's record of the {timed:,} responses within the {plan.timeout:g} s timeout (from send, 1 µs "
                  f"steps) plus the samples wrk adds to correct for coordinated omission (one per mean interval "
                  f"that a slow answer held its connection): higher than the responses' own percentiles")
    else:  # one thread per connection: the engine timed every request, into buckets 2% wide
        timed = completed
        lat_max_ms = d["lat_max"] / 1000
        values = percentiles(d["hist"], qs, cap_ms=lat_max_ms)
        latency = {"avg": round(d["lat_sum"] / timed / 1000, 3) if timed else None,
                   **percentiles(d["hist"], cap_ms=lat_max_ms),
                   "max": round(lat_max_ms, 3) if timed else None}
        start = "the scheduled send time" if plan.rate > 0 else "send"
        source = f"all {timed:,} responses, timed by the engine (from {start}, in buckets 2% wide)"
    # A percentile is drawn only when at least one response lies above it: with 1,000 responses,
    # "p99.99" would only repeat the maximum.
    distribution = [[q, v] for q in QUANTILES if (v := values[f"{q:g}"]) is not None and (100 - q) * timed >= 100]
    return latency, distribution, source


def summarize(raw: Raw, plan: Plan, scenario: str, mix_name: str, ids: str, id_ranges: dict[str, tuple[int, int]],
              ids_source: str, tool: str) -> dict[str, Any]:
    d = raw.data
    status = {str(k): int(v) for k, v in sorted(d["status"].items(), key=lambda kv: int(kv[0]))}
    failed_status = sum(n for code, n in status.items() if int(code) >= 400)
    wrk_errors = d.get("errors") or {}
    socket = {k: int(wrk_errors.get(k, 0)) for k in ("connect", "read", "write")}
    completed = int(d["completed"])
    successes = max(0, completed - failed_status - int(d["late_ok"]))
    open_loop = plan.rate > 0
    unanswered = int(d["unanswered"])
    if open_loop:
        # Every offered request ends as a success or an error: answered with an error status or
        # too late, lost to a socket error, unanswered at the end of the grace period, or never
        # sent because its connection was still waiting for earlier answers.
        sent = int(d["sent"])
        offered = round(plan.rate * plan.duration)
        errors = {"status": failed_status, "timeout": int(d["late_ok"]), **socket, "unanswered": unanswered,
                  "unsent": max(0, offered - sent)}
        error_total = max(0, offered - successes)
        error_rate = error_total / offered if offered else 0.0
    else:
        # Closed loop, the requests in flight when wrk stops were cut off by the end, not failed:
        # the requests that count are those answered or lost to a socket error.
        sent = offered = completed + socket["read"] + socket["write"]
        errors = {"status": failed_status, "timeout": int(d["late_ok"]), **socket}
        error_total = sum(errors.values())
        error_rate = error_total / max(1, sent + socket["connect"])
    window = raw.window_seconds
    latency, distribution, source = _latency(d, plan, completed)
    per_second: dict[int, dict[int, int]] = {}
    for key, n in d["sec_h"].items():
        sec, b = divmod(int(key), 10000)
        per_second.setdefault(sec, {})[b] = n
    timeline = []
    for sec in sorted(int(s) for s in d["sec_n"]):
        if not open_loop and sec + 1 > window + 0.05:
            continue  # the last, partial second of a closed-loop run would look like a drop
        p = percentiles(per_second.get(sec, {}), (("p50", 0.5), ("p99", 0.99)))
        timeline.append({"t": sec, "responses": int(d["sec_n"][str(sec)]), "errors": int(d["sec_e"].get(str(sec), 0)),
                         "p50": p["p50"], "p99": p["p99"]})
    return {
        "format": FORMAT,
        "scenario": scenario,
        "label": f"{scenario} {mix_name}" + (f" @{plan.rate:g}/s" if open_loop else f" c={plan.connections}"),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "url": plan.url,
        "tool": tool,
        "mix": mix_name,
        "ids": ids,
        "id_ranges": {kind: list(r) for kind, r in id_ranges.items()},
        "ids_source": ids_source,
        "max_id": id_ranges.get("product", (0, 0))[1] or None,
        "open_loop": open_loop,
        "rate": plan.rate if open_loop else None,
        "duration_s": round(window, 3),
        "connections": plan.connections,
        "threads": plan.connections if plan.exact else plan.threads,
        "latency_source": source,
        "timeout_s": plan.timeout,
        "offered": offered,
        "sent": sent,
        "completed": completed,
        "successes": successes,
        "requests_per_s": round(completed / window, 1) if window > 0 else 0.0,
        "successes_per_s": round(successes / window, 1) if window > 0 else 0.0,
        "latency_ms": latency,
        "status": status,
        "errors": errors,
        "error_total": error_total,
        "error_rate": round(error_rate, 6),
        "throughput": round(successes / offered, 6) if offered else 0.0,
        "generator_cpu": {"seconds": round(raw.cpu_seconds, 3),
                          "percent_of_core": round(100 * raw.cpu_seconds / window, 1) if window > 0 else 0.0},
        "machine": {"cpus": os.cpu_count(), "system": platform.platform(), "atelier": __version__},
        "timeline": timeline,
        "histogram": {str(k): v for k, v in sorted(d["hist"].items(), key=lambda kv: int(kv[0]))},
        "distribution": distribution,
        "command": " + ".join(" ".join(c[:-3] + ["-s", "<engine>", c[-1]]) for c in raw.commands),
    }


def passes(result: dict[str, Any], max_error_rate: float, p99_ms: float) -> bool:
    """A ramp step holds when its errors are within `max_error_rate` and its p99 within `p99_ms`."""
    p99 = result["latency_ms"]["p99"]
    return result["error_rate"] <= max_error_rate and p99 is not None and p99 <= p99_ms


def ramp_result(steps: list[dict[str, Any]], max_error_rate: float, p99_ms: float) -> dict[str, Any]:
    knee = None
    for step in steps:
        if passes(step, max_error_rate, p99_ms):
            if knee is None or step["rate"] > knee["rate"]:
                knee = step
        else:
            break  # the knee is the last rate before the first failing step
    first = steps[0]
    return {
        "format": FORMAT,
        "scenario": "ramp",
        "label": f"ramp {first['mix']}",
        "started_at": first["started_at"],
        "url": first["url"],
        "tool": first["tool"],
        "mix": first["mix"],
        "ids": first["ids"],
        "id_ranges": first["id_ranges"],
        "ids_source": first["ids_source"],
        "max_id": first["max_id"],
        "criteria": {"max_error_rate": max_error_rate, "p99_ms": p99_ms},
        "knee": None if knee is None else {"rate": knee["rate"], "requests_per_s": knee["requests_per_s"],
                                           "p99_ms": knee["latency_ms"]["p99"], "error_rate": knee["error_rate"]},
        "steps": [{**s, "passes": passes(s, max_error_rate, p99_ms)} for s in steps],
        "machine": first["machine"],
    }


def errors_fail(result: dict[str, Any], max_error_rate: float) -> bool:
    """A run fails when more than `max_error_rate` of its requests were errors."""
    return bool(result["error_rate"] > max_error_rate)


# What the largest share of errors most likely means.
CAUSES = {
    "404": "404 Not Found: the target does not have the ids asked for ({ids})",
    "4xx": "the target rejected the requests (4xx): check the mix against the target's contract",
    "5xx": "the server failed (5xx): see its log",
    "timeout": "answers slower than --timeout: the server is overloaded or stalled",
    "socket": "connections failed (connect, read, write): is the server up, and can it take this many connections?",
    "behind": "requests not answered or never sent in time: the server fell behind the offered rate",
}


def error_verdict(result: dict[str, Any], max_error_rate: float) -> str | None:
    """None when the run's errors are within `max_error_rate`; else what failed and its likely cause."""
    if not errors_fail(result, max_error_rate):
        return None
    shares: dict[str, int] = {}
    for code, n in result["status"].items():
        if int(code) >= 400:
            kind = "404" if code == "404" else "5xx" if int(code) >= 500 else "4xx"
            shares[kind] = shares.get(kind, 0) + n
    errors = result["errors"]
    shares["timeout"] = errors.get("timeout", 0)
    shares["socket"] = sum(errors.get(k, 0) for k in ("connect", "read", "write"))
    shares["behind"] = errors.get("unanswered", 0) + errors.get("unsent", 0)
    cause = max(shares, key=lambda k: shares[k])
    ranges = ", ".join(f"{kind} {low:,}..{high:,}" for kind, (low, high) in result.get("id_ranges", {}).items())
    ids = f"{ranges}; {result.get('ids_source', '')}" if ranges else "no ids"
    by_kind = "  ".join(f"{k}: {n:,}" for k, n in sorted(shares.items(), key=lambda kv: -kv[1]) if n)
    return (f"FAILED: {100 * result['error_rate']:.2f}% of {result['offered']:,} requests were errors, more than "
            f"--max-error-rate {100 * max_error_rate:g}% ({result['label']})\n"
            f"  errors: {by_kind}\n"
            f"  most are {CAUSES[cause].format(ids=ids)}")
