"""`atelier loadtest`: drive wrk against the API and write JSON, a terminal table and HTML."""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

EPILOG = """\
scenarios:
  rate   open loop: --rate requests/s for --duration s; latency from the scheduled send time
  max    closed loop: --connections connections, each sending as soon as it has its answer
  ramp   open-loop steps through --rates to find the knee: the highest rate with errors under
         --max-error-rate and p99 within --p99-ms

mixes (--mix): legacy (the legacy teams' 8 URLs), shopper (every read endpoint and 6% writes),
  one endpoint (products, product, styles, related, reviews, reviews-meta, questions, answers,
  cart, interactions, helpful, health) or a path such as /products/{id}/styles

examples:
  atelier loadtest rate --rate 2000 --duration 10
  atelier loadtest max --connections 32 --mix shopper --ids recent
  atelier loadtest ramp --rates 1000,2000,4000,8000 --duration 10 --p99-ms 50
  atelier loadtest --compare reports/loadtest/a.json reports/loadtest/b.json
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("loadtest", help="load-test the API with wrk (rate, max, ramp) or compare runs",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", choices=("rate", "max", "ramp"))
    p.add_argument("--url", help="base URL (default http://127.0.0.1:$ATELIER_PORT, port 3000)")
    p.add_argument("--allow-remote", action="store_true", help="allow a URL that is not on this machine (loopback)")
    p.add_argument("--mix", default="legacy", help="legacy, shopper, an endpoint name or a path (default legacy)")
    p.add_argument("--ids", choices=("uniform", "recent"), default="uniform",
                   help="ids uniform over the full range, or in its last 10%% (default uniform)")
    p.add_argument("--max-id", type=int, default=1_000_011, help="highest product id (default 1,000,011)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run or ramp step (default 10)")
    p.add_argument("--rate", type=float, default=1000.0, help="rate: requests per second (default 1000)")
    p.add_argument("--connections", type=int, help="connections (default: max 64; rate and ramp rate/250, at least 16)")
    p.add_argument("--threads", type=int, help="max: wrk threads (default 2, cheapest); equal to --connections for "
                                               "exact per-request latency and latency over time")
    p.add_argument("--rates", default="1000,2000,4000,8000,16000,32000", help="ramp: comma-separated rates (1k ok)")
    p.add_argument("--p99-ms", type=float, default=100.0, help="ramp: p99 limit of a step that holds (default 100)")
    p.add_argument("--max-error-rate", type=float, default=0.01, help="ramp: error limit of a step (default 0.01)")
    p.add_argument("--keep-going", action="store_true", help="ramp: run every rate, even after a step fails")
    p.add_argument("--timeout", type=float, default=2.0, help="a slower response is an error (default 2 s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("reports/loadtest"), help="folder for JSON and HTML")
    p.add_argument("--name", help="file name without extension (default scenario-mix-time)")
    p.add_argument("--no-html", action="store_true", help="write only the JSON")
    p.add_argument("--compare", nargs="+", type=Path, metavar="RUN.json", help="put saved runs side by side")
    p.set_defaults(run=main)


def parse_rates(text: str) -> tuple[float, ...]:
    rates = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(k?)", part)
        if m is None:
            raise SystemExit(f"--rates: not a rate: {part!r}")
        rates.append(float(m.group(1)) * (1000 if m.group(2) else 1))
    return tuple(rates)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_remote: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"not an http(s) URL: {url!r}")
    if not is_loopback(url) and not allow_remote:
        raise SystemExit(f"refusing to load-test {parts.hostname}: it is not this machine (loopback). "
                         "Pass --allow-remote if you really mean to send load there.")
    return url.rstrip("/")


def main(args: argparse.Namespace, settings: Any) -> None:
    from . import report

    if args.compare:
        compare(args.compare, None if args.no_html else args.out / (args.name or f"compare-{_now()}"))
        return
    if args.scenario is None:
        raise SystemExit("atelier loadtest: name a scenario (rate, max, ramp) or pass --compare A.json B.json")
    from .mixes import mix
    from .scenarios import Options, run_max, run_ramp, run_rate
    from .wrk import ToolMissing

    url = check_url(args.url or f"http://127.0.0.1:{settings.port}", args.allow_remote)
    try:
        mix(args.mix)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    options = Options(url=url, mix=args.mix, ids=args.ids, max_id=args.max_id, duration=args.duration,
                      rate=args.rate, connections=args.connections, threads=args.threads, timeout=args.timeout, seed=args.seed,
                      rates=parse_rates(args.rates), p99_ms=args.p99_ms, max_error_rate=args.max_error_rate,
                      keep_going=args.keep_going)
    what = {"rate": f"{args.rate:,.0f} requests/s for {args.duration:g} s", "max": f"{args.duration:g} s closed loop",
            "ramp": f"rates {args.rates}, {args.duration:g} s each"}[args.scenario]
    print(f"atelier loadtest {args.scenario}: {args.mix} mix on {url}, {what}", file=sys.stderr)
    try:
        if args.scenario == "rate":
            result = run_rate(options)
        elif args.scenario == "max":
            result = run_max(options)
        else:
            result = run_ramp(options)
    except (ToolMissing, ValueError, RuntimeError) as exc:
        raise SystemExit(str(exc)) from None
    print(report.ramp_table(result) if args.scenario == "ramp" else report.run_table(result))
    name = args.name or f"{args.scenario}-{re.sub(r'[^a-z0-9-]+', '_', args.mix.lower()).strip('_')}-{_now()}"
    json_path, html_path = save(result, args.out, name, not args.no_html)
    print(f"wrote {json_path}" + (f" and {html_path}" if html_path else ""), file=sys.stderr)


def save(result: dict[str, Any], folder: Path, name: str, with_html: bool = True) -> tuple[Path, Path | None]:
    import orjson

    from . import html

    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{name}.json"
    json_path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    html_path = None
    if with_html:
        html_path = folder / f"{name}.html"
        page = html.ramp_page(result) if result["scenario"] == "ramp" else html.run_page(result)
        html_path.write_text(page, encoding="utf-8")
    return json_path, html_path


def load_run(path: Path) -> dict[str, Any]:
    import orjson

    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SystemExit(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or "scenario" not in data:
        raise SystemExit(f"{path} is not an atelier loadtest result")
    return data


def _now() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def compare(paths: list[Path], html_base: Path | None) -> None:
    from . import html, report

    if len(paths) < 2:
        raise SystemExit("--compare needs two or more result files")
    runs = [load_run(p) for p in paths]
    names = _names(paths)
    print(report.compare_table(runs, names))
    if html_base is not None:
        html_base.parent.mkdir(parents=True, exist_ok=True)
        out = html_base.parent / f"{html_base.name}.html"
        out.write_text(html.compare_page(runs, names), encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


def _names(paths: list[Path]) -> list[str]:
    """Short, distinct names for the compared files (their stems, numbered when equal)."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [f"{i + 1}:{s}" for i, s in enumerate(stems)]
