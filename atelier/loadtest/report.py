"""Terminal tables: one run, a ramp, or several runs side by side (`--compare`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _num(v: Any, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.{digits}f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.2f}%"


def _statuses(result: dict[str, Any]) -> str:
    parts = [f"{code}: {n:,}" for code, n in result["status"].items()]
    parts += [f"{k}: {n:,}" for k, n in result["errors"].items() if k != "status" and n]
    return "  ".join(parts) or "none"


def run_table(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    offered = (f"offered {r['rate']:,.0f}/s, open loop" if r["open_loop"]
               else f"closed loop, {r['connections']} connections")
    cpu = r["generator_cpu"]
    lines = [
        f"{r['label']}  ·  {r['url']}  ·  {r['duration_s']:g} s  ·  {r['connections']} connections  ·  {r['tool']}",
        f"  requests/s     {r['requests_per_s']:>10,.1f}   ({offered})",
        f"  successes/s    {r['successes_per_s']:>10,.1f}   throughput {_pct(r['throughput'])} (successes / offered)",
        f"  latency ms     avg {_num(lat['avg'], 2)}  p50 {_num(lat['p50'], 2)}  p90 {_num(lat['p90'], 2)}  "
        f"p99 {_num(lat['p99'], 2)}  p99.9 {_num(lat.get('p99.9'), 2)}  max {_num(lat['max'], 2)}",
        f"  latency of     {r.get('latency_source', '')}",
        f"  errors         {_pct(r['error_rate'])} of {r['offered']:,} requests",
        f"  by status      {_statuses(r)}",
        f"  generator CPU  {cpu['seconds']:.2f} s ({cpu['percent_of_core']:.1f}% of one core)",
    ]
    return "\n".join(lines)


def ramp_table(r: dict[str, Any]) -> str:
    c = r["criteria"]
    head = (f"{r['label']}  ·  {r['url']}  ·  knee: "
            + (f"{r['knee']['rate']:,.0f}/s (p99 {r['knee']['p99_ms']} ms)" if r["knee"] else "none")
            + f"  ·  criteria: errors < {_pct(c['max_error_rate'])}, p99 <= {c['p99_ms']:g} ms")
    rows: list[tuple[str, ...]] = [
        ("offered/s", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "throughput", "gen CPU", "holds")]
    for s in r["steps"]:
        lat = s["latency_ms"]
        rows.append((f"{s['rate']:,.0f}", f"{s['requests_per_s']:,.1f}", _num(lat["p50"], 2), _num(lat["p90"], 2),
                     _num(lat["p99"], 2), _num(lat["max"], 2), _pct(s["error_rate"]), _pct(s["throughput"]),
                     f"{s['generator_cpu']['percent_of_core']:.0f}%", "yes" if s["passes"] else "NO"))
    return head + "\n" + _grid(rows)


def _grid(rows: list[tuple[str, ...]], left: int = 0) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        out.append("  " + "  ".join(cells))
    return "\n".join(out)


# Rows of the side-by-side comparison: label, how to read it, and whether higher is better.
Metric = tuple[str, Callable[[dict[str, Any]], Any], bool | None]


def _lat(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["latency_ms"][name]


RUN_METRICS: list[Metric] = [
    ("requests/s", lambda r: r["requests_per_s"], True),
    ("successes/s", lambda r: r["successes_per_s"], True),
    ("throughput", lambda r: r["throughput"], True),
    ("error rate", lambda r: r["error_rate"], False),
    ("latency avg ms", _lat("avg"), False),
    ("latency p50 ms", _lat("p50"), False),
    ("latency p90 ms", _lat("p90"), False),
    ("latency p99 ms", _lat("p99"), False),
    ("latency p99.9 ms", lambda r: r["latency_ms"].get("p99.9"), False),
    ("latency max ms", _lat("max"), False),
    ("generator CPU %", lambda r: r["generator_cpu"]["percent_of_core"], None),
]

RAMP_METRICS: list[Metric] = [
    ("knee rate/s", lambda r: r["knee"]["rate"] if r["knee"] else None, True),
    ("knee achieved/s", lambda r: r["knee"]["requests_per_s"] if r["knee"] else None, True),
    ("knee p99 ms", lambda r: r["knee"]["p99_ms"] if r["knee"] else None, False),
    ("highest achieved/s", lambda r: max(s["requests_per_s"] for s in r["steps"]), True),
]


def metrics_for(runs: list[dict[str, Any]]) -> list[Metric]:
    return RAMP_METRICS if all(r["scenario"] == "ramp" for r in runs) else RUN_METRICS


def _value(r: dict[str, Any], read: Callable[[dict[str, Any]], Any]) -> Any:
    try:
        return read(r)
    except (KeyError, TypeError):  # a ramp compared with single runs
        return None


def compare_table(runs: list[dict[str, Any]], names: list[str]) -> str:
    metrics = metrics_for(runs)
    header = ("", *names, *(f"{n} / {names[0]}" for n in names[1:]))
    rows: list[tuple[str, ...]] = [header]
    rows.append(("scenario", *(r["label"] for r in runs), *("" for _ in runs[1:])))
    for label, read, _higher in metrics:
        values = [_value(r, read) for r in runs]
        shown = [_pct(v) if label in ("throughput", "error rate") and v is not None else _num(v, 2) for v in values]
        ratios = []
        for v in values[1:]:
            base = values[0]
            ratios.append(f"x{v / base:.2f}" if isinstance(v, (int, float)) and isinstance(base, (int, float)) and base
                          else "–")
        rows.append((label, *shown, *ratios))
    return _grid(rows, left=1)
