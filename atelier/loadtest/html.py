"""Self-contained HTML reports: inline SVG charts drawn here, no script, no CDN.

A run shows latency, responses and errors over time; a ramp shows the ramp curve (achieved
against offered rate, latency and errors per step); a comparison puts runs side by side.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

from . import report

COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d")
Series = tuple[str, str, list[tuple[float, float | None]]]  # name, color, points

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}
.meta{color:#555}.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{border:1px solid #e3e5e8;border-radius:6px;background:#fff}
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .7em;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}
td.no{color:#b91c1c;font-weight:600}pre{background:#f6f7f9;padding:.7em;overflow:auto;font-size:12px}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _nice(v: float) -> float:
    if v <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * p >= v * 0.999:
            return m * p
    return 10 * p


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k"
    if abs(v) >= 10:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def line_chart(title: str, series: list[Series], x_label: str, y_label: str, width: int = 530,
               height: int = 260, log_y: bool = False, diagonal: bool = False, mark_x: float | None = None,
               x_ticks: list[tuple[float, str]] | None = None) -> str:
    """An SVG line chart with axes, grid, legend, optional log y axis and y = x line.

    `x_ticks` (position, label) replaces the five evenly spaced x ticks, for an x axis whose
    positions are not its values (the "nines" of a latency distribution)."""
    left, right, top, bottom = 58, 14, 44, 42
    pw, ph = width - left - right, height - top - bottom
    xs = [x for _, _, pts in series for x, y in pts if y is not None]
    ys = [y for _, _, pts in series for _, y in pts if y is not None and (y > 0 or not log_y)]
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="11">',
           f'<text x="{left}" y="16" font-size="13" font-weight="600">{_e(title)}</text>']
    if not xs or not ys:
        out.append(f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" fill="#888">no data</text>'
                   "</svg>")
        return "".join(out)
    x0, x1 = min(xs), max(xs)
    if x_ticks:
        x0, x1 = min(x0, *(t for t, _ in x_ticks)), max(x1, *(t for t, _ in x_ticks))
    if diagonal:
        x0 = min(x0, 0)
    if x1 == x0:
        x1 = x0 + 1
    if log_y:
        y0 = 10 ** math.floor(math.log10(min(ys)))
        y1 = 10 ** math.ceil(math.log10(max(ys)))
        if y1 <= y0:
            y1 = y0 * 10
        ticks = [y0 * 10 ** i for i in range(round(math.log10(y1 / y0)) + 1)]

        def sy(y: float) -> float:
            return top + ph - ph * (math.log10(max(y, y0)) - math.log10(y0)) / (math.log10(y1) - math.log10(y0))
    else:
        y0, y1 = 0.0, _nice(max(max(ys), x1 if diagonal else 0))
        ticks = [y1 * i / 4 for i in range(5)]

        def sy(y: float) -> float:
            return top + ph - ph * (y - y0) / (y1 - y0)

    def sx(x: float) -> float:
        return left + pw * (x - x0) / (x1 - x0)

    for t in ticks:
        ty = sy(t)
        out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{left + pw}" y2="{ty:.1f}" stroke="#eceef1"/>'
                   f'<text x="{left - 5}" y="{ty + 4:.1f}" text-anchor="end" fill="#666">{_fmt(t)}</text>')
    for xv, label in x_ticks or [(x0 + (x1 - x0) * i / 4, _fmt(x0 + (x1 - x0) * i / 4)) for i in range(5)]:
        out.append(f'<text x="{sx(xv):.1f}" y="{top + ph + 15}" text-anchor="middle" fill="#666">{_e(label)}</text>')
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#999"/>'
               f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle" fill="#444">{_e(x_label)}</text>'
               f'<text transform="translate(13 {top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#444">'
               f'{_e(y_label)}</text>')
    if diagonal:
        top_x = min(x1, y1)
        out.append(f'<line x1="{sx(x0):.1f}" y1="{sy(x0):.1f}" x2="{sx(top_x):.1f}" y2="{sy(top_x):.1f}" '
                   f'stroke="#bbb" stroke-dasharray="4 3"/>')
    if mark_x is not None:
        out.append(f'<line x1="{sx(mark_x):.1f}" y1="{top}" x2="{sx(mark_x):.1f}" y2="{top + ph}" stroke="#16a34a" '
                   f'stroke-dasharray="3 3"/><text x="{sx(mark_x) + 3:.1f}" y="{top + 10}" fill="#16a34a">knee</text>')
    lx = left
    for name, color, pts in series:
        path: list[str] = []
        pen_up = True
        for x, y in pts:
            if y is None or (log_y and y <= 0):
                pen_up = True
                continue
            path.append(f"{'M' if pen_up else 'L'}{sx(x):.1f},{sy(y):.1f}")
            pen_up = False
        out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        if len(pts) <= 12:
            for x, y in pts:
                if y is not None and not (log_y and y <= 0):
                    out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.6" fill="{color}"/>')
        out.append(f'<rect x="{lx}" y="27" width="12" height="3" fill="{color}"/>'
                   f'<text x="{lx + 16}" y="32" fill="#333">{_e(name)}</text>')
        lx += round(26 + 6.5 * len(name))
    out.append("</svg>")
    return "".join(out)


def bar_chart(title: str, labels: list[str], values: list[float | None], unit: str, width: int = 530) -> str:
    row, left = 26, 170
    height = 40 + row * len(labels)
    top = max((v for v in values if v is not None), default=0) or 1
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="system-ui,sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13" font-weight="600">{_e(title)}</text>']
    for i, (label, v) in enumerate(zip(labels, values)):
        y = 30 + i * row
        w = 0 if v is None else (width - left - 70) * v / top
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" fill="#333">{_e(label[:28])}</text>'
                   f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="16" fill="{COLORS[i % len(COLORS)]}"/>'
                   f'<text x="{left + w + 5:.1f}" y="{y + 15}" fill="#333">'
                   f'{"–" if v is None else _value(v)} {unit}</text>')
    out.append("</svg>")
    return "".join(out)


def _value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _page(title: str, body: Iterable[str]) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style></head><body>" + "".join(body) + "</body></html>\n")


def _table(rows: list[list[Any]], flags: list[str] | None = None) -> str:
    head, *body = rows
    out = ["<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in head) + "</tr>"]
    for i, row in enumerate(body):
        cls = flags[i] if flags else ""
        out.append("<tr>" + "".join(f'<td class="{cls if j == len(row) - 1 else ""}">{_e(c)}</td>'
                                    for j, c in enumerate(row)) + "</tr>")
    return "".join(out) + "</table>"


def _timeline_charts(r: dict[str, Any]) -> list[str]:
    tl = r["timeline"]
    timed = any(p["p50"] is not None for p in tl)
    latency = (line_chart("Latency over time", [
        ("p50", COLORS[0], [(p["t"], p["p50"]) for p in tl]),
        ("p99", COLORS[1], [(p["t"], p["p99"]) for p in tl])], "second of the run", "ms", log_y=True) if timed
        else note_box("Latency over time", "Not recorded: wrk's threads were shared by the connections (--threads), "
                      "so only wrk's record of the whole run has latency. Leave --threads out for it."))
    return [
        latency,
        line_chart("Responses per second", ([("offered/s", "#aaa", [(p["t"], r["rate"]) for p in tl])]
                                            if r["open_loop"] else [])
                   + [("responses/s", COLORS[2], [(p["t"], p["responses"]) for p in tl])],
                   "second of the run", "responses/s"),
        line_chart("Errors per second", [("errors/s", COLORS[1], [(p["t"], p["errors"]) for p in tl])],
                   "second of the run", "errors/s"),
        distribution_chart(r),
    ]


def nines(percent: float) -> float:
    """Position of a percentile on a "nines" axis: 90% at 1, 99% at 2, 99.9% at 3."""
    return -math.log10(1 - min(percent, 99.9999) / 100)


NINES_TICKS = [(nines(p), f"{p:g}%") for p in (50, 90, 99, 99.9, 99.99, 99.999)]


def distribution_chart(r: dict[str, Any]) -> str:
    """Latency at each percentile of the run's responses, the tail spread out (log of 1 - percentile)."""
    points = [(nines(q), ms) for q, ms in r.get("distribution", [])]
    shown = [(x, label) for x, label in NINES_TICKS if not points or x <= max(x for x, _ in points) + 0.01]
    return line_chart("Latency distribution", [("latency", COLORS[4], points)],
                      "percentile of responses (their share answered within that latency)", "ms", log_y=True,
                      x_ticks=shown)


def note_box(title: str, text: str, width: int = 530, height: int = 260) -> str:
    """A chart-sized box that says why there is no chart."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) > 70:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    body = "".join(f'<text x="20" y="{90 + 18 * i}" fill="#666">{_e(t)}</text>' for i, t in enumerate(lines))
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="system-ui,sans-serif" font-size="12">'
            f'<text x="58" y="16" font-size="13" font-weight="600">{_e(title)}</text>{body}</svg>')


def _ids(r: dict[str, Any]) -> str:
    ranges = ", ".join(f"{kind} {low:,}..{high:,}" for kind, (low, high) in r.get("id_ranges", {}).items())
    return f"ids {r['ids']}: {ranges or 'none'} ({r.get('ids_source', '')})"


def run_page(r: dict[str, Any]) -> str:
    return _page(f"atelier loadtest: {r['label']}", [
        f"<h1>{_e(r['label'])}</h1>",
        f'<p class="meta">{_e(r["url"])} · {_e(r["started_at"])} · {r["duration_s"]:g} s · '
        f'{r["connections"]} connections · {_e(_ids(r))} · {_e(r["tool"])}</p>',
        f"<pre>{_e(report.run_table(r))}</pre>",
        '<div class="charts">', *_timeline_charts(r), "</div>",
        f'<p class="meta">Command: <code>{_e(r["command"])}</code></p>',
    ])


def _ramp_charts(ramps: list[tuple[str, dict[str, Any]]]) -> list[str]:
    achieved, p99, p50, errors = [], [], [], []
    for i, (name, r) in enumerate(ramps):
        c = COLORS[i % len(COLORS)]
        steps = r["steps"]
        achieved.append((name, c, [(s["rate"], s["requests_per_s"]) for s in steps]))
        p99.append((f"{name} p99" if len(ramps) > 1 else "p99", c if len(ramps) > 1 else COLORS[1],
                    [(s["rate"], s["latency_ms"]["p99"]) for s in steps]))
        p50.append((f"{name} p50" if len(ramps) > 1 else "p50", c if len(ramps) > 1 else COLORS[0],
                    [(s["rate"], s["latency_ms"]["p50"]) for s in steps]))
        errors.append((name if len(ramps) > 1 else "errors", c, [(s["rate"], 100 * s["error_rate"]) for s in steps]))
    knee = ramps[0][1]["knee"]["rate"] if len(ramps) == 1 and ramps[0][1]["knee"] else None
    return [
        line_chart("Ramp curve: achieved against offered", achieved, "offered requests/s", "achieved requests/s",
                   diagonal=True, mark_x=knee),
        line_chart("Latency per step", (p50 if len(ramps) == 1 else []) + p99, "offered requests/s", "ms",
                   log_y=True, mark_x=knee),
        line_chart("Errors per step", errors, "offered requests/s", "% of requests", mark_x=knee),
    ]


def ramp_page(r: dict[str, Any]) -> str:
    steps = r["steps"]
    rows = [["offered/s", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "throughput", "holds"]]
    for s in steps:
        lat = s["latency_ms"]
        rows.append([f"{s['rate']:,.0f}", f"{s['requests_per_s']:,.1f}", *(report._num(lat[k], 2) for k in
                     ("p50", "p90", "p99", "max")), f"{100 * s['error_rate']:.2f}%", f"{100 * s['throughput']:.2f}%",
                     "yes" if s["passes"] else "no"])
    flags = ["" if s["passes"] else "no" for s in steps]
    body = [
        f"<h1>{_e(r['label'])}</h1>",
        f'<p class="meta">{_e(r["url"])} · {_e(r["started_at"])} · {_e(_ids(r))} · {_e(r["tool"])}</p>',
        f"<pre>{_e(report.ramp_table(r))}</pre>",
        '<div class="charts">', *_ramp_charts([("achieved", r)]), "</div>",
        "<h2>Steps</h2>", _table(rows, flags),
    ]
    for s in steps:
        body += [f"<h2>Step {s['rate']:,.0f}/s</h2>", '<div class="charts">', *_timeline_charts(s)[:2], "</div>"]
    return _page(f"atelier loadtest: {r['label']}", body)


def compare_page(runs: list[dict[str, Any]], names: list[str]) -> str:
    body = [f"<h1>Comparison of {len(runs)} runs</h1>",
            "<ul>" + "".join(f"<li><b>{_e(n)}</b>: {_e(r['label'])}, {_e(r['url'])}, {_e(r['started_at'])}</li>"
                             for n, r in zip(names, runs)) + "</ul>",
            f"<pre>{_e(report.compare_table(runs, names))}</pre>", '<div class="charts">']
    ramps = [(n, r) for n, r in zip(names, runs) if r["scenario"] == "ramp"]
    singles = [(n, r) for n, r in zip(names, runs) if r["scenario"] != "ramp"]
    if ramps:
        body += _ramp_charts(ramps)
    if singles:
        labels = [n for n, _ in singles]
        body.append(bar_chart("Requests per second", labels, [r["requests_per_s"] for _, r in singles], "/s"))
        body.append(bar_chart("Latency p99", labels, [r["latency_ms"]["p99"] for _, r in singles], "ms"))
        body.append(bar_chart("Latency p50", labels, [r["latency_ms"]["p50"] for _, r in singles], "ms"))
        body.append(bar_chart("Error rate", labels, [100 * r["error_rate"] for _, r in singles], "%"))
        body.append(line_chart("Latency over time (p99)", [
            (n, COLORS[i % len(COLORS)], [(p["t"], p["p99"]) for p in r["timeline"]])
            for i, (n, r) in enumerate(singles)], "second of the run", "ms", log_y=True))
        body.append(line_chart("Responses per second", [
            (n, COLORS[i % len(COLORS)], [(p["t"], p["responses"]) for p in r["timeline"]])
            for i, (n, r) in enumerate(singles)], "second of the run", "responses/s"))
    body.append("</div>")
    return _page("atelier loadtest comparison", body)
