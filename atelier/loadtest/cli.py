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

from .discover import Ids, TargetError, learn

DESCRIPTION = """\
Load-test a running atelier (or any server of the same contract) with wrk, print a table and
write the run as JSON and as a self-contained HTML report.

The ids each request asks for are drawn from the target's own id ranges, learned from its public
API before the run (a few dozen GET requests, see atelier/loadtest/discover.py) unless --max-id,
--max-question-id and --max-review-id give them. A run whose errors are more than
--max-error-rate of its requests says so, with the likely cause, and exits with status 1.
"""

EPILOG = """\
scenarios:
  rate   open loop: --rate requests/s for --duration s; latency from the scheduled send time
  max    closed loop: --connections connections, each sending as soon as it has its answer
  ramp   open-loop steps through --rates to find the knee: the highest rate with errors within
         --max-error-rate and p99 within --p99-ms

mixes (--mix): legacy (the legacy teams' 8 URLs), shopper (every read endpoint and 6% writes),
  one endpoint (products, product, styles, related, reviews, reviews-meta, questions, answers,
  cart, interactions, helpful, post-review, health) or a path such as /products/{id}/styles

examples:
  atelier loadtest rate --rate 2000 --duration 10
  atelier loadtest max --connections 32 --mix shopper --ids recent
  atelier loadtest ramp --rates 1000,2000,4000,8000 --duration 10 --p99-ms 50
  atelier loadtest --compare reports/loadtest/a.json reports/loadtest/b.json
"""


def add_parser(sub: Any) -> None:
    from ..cli import HelpFormatter

    p = sub.add_parser("loadtest", help="load-test the API with wrk (rate, max, ramp) or compare runs",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    p.add_argument("scenario", nargs="?", choices=("rate", "max", "ramp"), help="what load to send (see below)")
    p.add_argument("--url", help="base URL of the target (default: http://127.0.0.1:$ATELIER_PORT, port 3000)")
    p.add_argument("--allow-remote", action="store_true", help="allow a URL that is not on this machine (loopback)")
    p.add_argument("--mix", default="legacy", help="legacy, shopper, an endpoint name or a path")
    p.add_argument("--ids", choices=("uniform", "recent"), default="uniform",
                   help="ids uniform over each whole range, or in its last 10%%")
    p.add_argument("--max-id", type=int, metavar="N",
                   help="highest product id, ids drawn from 1 (default: learned from the target)")
    p.add_argument("--max-question-id", type=int, metavar="N",
                   help="highest question id, ids drawn from 1 (default: learned from the target)")
    p.add_argument("--max-review-id", type=int, metavar="N",
                   help="highest review id, ids drawn from 1 (default: learned from the target)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per run or ramp step")
    p.add_argument("--rate", type=float, default=1000.0, help="rate: requests per second")
    p.add_argument("--connections", type=int,
                   help="connections (default: max 64; rate and ramp rate/250, at least 16)")
    p.add_argument("--threads", type=int,
                   help="max: wrk threads (default: one per connection, so that every request is timed, with latency "
                        "over time); fewer cost the generator less CPU, and latency then comes from wrk's own record, "
                        "which includes wrk's coordinated-omission correction")
    p.add_argument("--rates", default="1000,2000,4000,8000,16000,32000", help="ramp: comma-separated rates (1k ok)")
    p.add_argument("--p99-ms", type=float, default=100.0, help="ramp: p99 limit of a step that holds")
    p.add_argument("--max-error-rate", type=float, default=0.01, metavar="SHARE",
                   help="errors allowed, as a share of requests: a run (or a ramp's lowest step) with more fails "
                        "with exit status 1; a ramp step with more does not hold")
    p.add_argument("--keep-going", action="store_true", help="ramp: run every rate, even after a step fails")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds: a slower response is an error")
    p.add_argument("--seed", type=int, default=1, help="random seed of the ids drawn")
    p.add_argument("--out", type=Path, default=Path("reports/loadtest"), metavar="DIR", help="folder for JSON and HTML")
    p.add_argument("--name", help="file name without extension (default: SCENARIO-MIX-TIME)")
    p.add_argument("--no-html", action="store_true", help="write only the JSON")
    p.add_argument("--compare", nargs="+", type=Path, metavar="RUN.json",
                   help="put these saved runs side by side instead of running a scenario (default: none)")
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
    from .results import error_verdict
    from .scenarios import Options, run_max, run_ramp, run_rate
    from .wrk import ToolMissing

    url = check_url(args.url or f"http://127.0.0.1:{settings.port}", args.allow_remote)
    try:
        chosen = mix(args.mix)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    ids = learn_ids(url, chosen.id_kinds, args)
    print(f"atelier loadtest: {ids.describe()}", file=sys.stderr)
    options = Options(url=url, mix=args.mix, ids=args.ids, id_ranges=ids.ranges, ids_source=_source(ids),
                      duration=args.duration, rate=args.rate, connections=args.connections, threads=args.threads,
                      timeout=args.timeout, seed=args.seed, rates=parse_rates(args.rates), p99_ms=args.p99_ms,
                      max_error_rate=args.max_error_rate, keep_going=args.keep_going)
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
    # A ramp is judged by its lowest step: errors there mean a broken target, not a loaded one.
    judged = result["steps"][0] if args.scenario == "ramp" else result
    verdict = error_verdict(judged, args.max_error_rate)
    if verdict is not None:
        print(verdict, file=sys.stderr)
        raise SystemExit(1)


def learn_ids(url: str, kinds: set[str], args: argparse.Namespace) -> Ids:
    """The id ranges of the kinds the mix draws: from the flags, the rest learned from the target."""
    given = {kind: value for kind, value in (("product", args.max_id), ("question", args.max_question_id),
                                             ("review", args.max_review_id)) if value is not None}
    for kind, value in given.items():
        if value < 1:
            raise SystemExit(f"the highest {kind} id must be at least 1, got {value}")
    try:
        return learn(url, kinds, given)
    except TargetError as exc:
        raise SystemExit(f"cannot learn the ids to ask for from {url}: {exc}\n"
                         "(--max-id, --max-question-id and --max-review-id give them instead)") from None


def _source(ids: Ids) -> str:
    if not ids.learned:
        return "ids given by the flags"
    given = [k for k in ids.ranges if k not in ids.learned]
    return "ids learned from the target" + (f" ({', '.join(given)} given by the flags)" if given else "")


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
