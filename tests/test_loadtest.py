"""`atelier loadtest`: mixes and safety checks, and short real runs of wrk against the real server."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import Server, atelier, free_port, run

from atelier.loadtest import html, mixes
from atelier.loadtest.cli import check_url, is_loopback, parse_rates
from atelier.loadtest.discover import TargetError, learn

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None,
                               reason="wrk is not installed (apt-get install -y wrk, or `make tools`)")


def test_mixes_are_weighted_and_named() -> None:
    legacy = mixes.mix("legacy")
    assert [e.name for e, _ in legacy.parts] == list(mixes.LEGACY)
    assert sum(w for _, w in legacy.parts) == pytest.approx(1)
    assert legacy.write_share == 0
    shopper = mixes.mix("shopper")
    assert shopper.write_share == pytest.approx(0.06)
    assert {e.method for e, _ in shopper.parts} == {"GET", "POST", "PUT"}
    single = mixes.mix("styles")
    assert single.parts == ((mixes.ENDPOINTS["styles"], 1.0),)
    path = mixes.mix("/products/{id}/related")
    assert path.parts[0][0].ids == "product"
    with pytest.raises(ValueError, match="unknown mix"):
        mixes.mix("everything")


def test_id_ranges() -> None:
    full = {"product": (1, 1_000_011), "question": (5, 104), "page": (1, 200_003)}
    assert mixes.id_ranges(full, "uniform") == full
    recent = mixes.id_ranges(full, "recent")
    assert recent["product"] == (900_011, 1_000_011)  # the last 10%
    assert recent["question"] == (95, 104)
    assert mixes.id_ranges({"product": (19, 19)}, "recent")["product"] == (19, 19)
    assert mixes.pages(19) == 4 and mixes.pages(20) == 4 and mixes.pages(1) == 1
    assert mixes.mix("legacy").id_kinds == {"page", "product", "question"}
    assert mixes.mix("cart").id_kinds == set()
    with pytest.raises(ValueError):
        mixes.id_ranges({"product": (0, 10)}, "uniform")
    with pytest.raises(ValueError):
        mixes.id_ranges({"product": (1, 10)}, "zipf")


def test_ids_given_by_flags_ask_nothing_of_the_target() -> None:
    # No server at this address: every range comes from the flags, so nothing is asked.
    ids = learn(f"http://127.0.0.1:{free_port()}", {"product", "page", "review"}, {"product": 19, "review": 7})
    assert ids.ranges == {"product": (1, 19), "page": (1, 4), "review": (1, 7)}
    assert ids.learned == [] and ids.requests == 0


def test_ids_are_learned_from_the_target(server: Server, sample_db: str) -> None:
    ids = learn(server.url, {"product", "page", "review"}, {})
    truth = run(_fetch(sample_db, "SELECT count(*), min(id), max(id) FROM products.product"))
    assert ids.products == truth[0]
    assert ids.ranges["product"] == (truth[1], truth[2])
    assert ids.ranges["page"] == (1, mixes.pages(truth[0]))
    reviews = run(_fetch(sample_db, "SELECT min(id), max(id) FROM reviews.review"))
    assert ids.ranges["review"] == (reviews[0], reviews[1])  # the first and the last product have reviews
    # The sample's products are 1-19 and 999996-1000011: the range is said to be mostly holes.
    assert "learned from the target" in ids.describe() and "most ids drawn do not exist" in ids.describe()
    # The sample has no Q&A loaded: no question id to draw is a clear error, not a guess.
    assert run(_fetch(sample_db, "SELECT count(*) FROM qa.question"))[0] == 0
    with pytest.raises(TargetError, match="no question ids found"):
        learn(server.url, {"question"}, {})
    # A given kind wins; the others are still learned.
    mixed = learn(server.url, {"product", "review"}, {"product": 19})
    assert mixed.ranges["product"] == (1, 19) and mixed.learned == ["review"]


async def _fetch(url: str, query: str) -> tuple[Any, ...]:
    conn = await asyncpg.connect(url)
    try:
        return tuple(await conn.fetchrow(query))
    finally:
        await conn.close()


def test_rates_and_urls() -> None:
    assert parse_rates("1k, 2000,4.5k") == (1000, 2000, 4500)
    for url in ("http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000", "http://127.5.6.7"):
        assert is_loopback(url)
    for url in ("http://10.0.0.1:3000", "http://192.168.1.2", "http://example.com"):
        assert not is_loopback(url)
    assert check_url("http://127.0.0.1:3000/", False) == "http://127.0.0.1:3000"
    assert check_url("http://10.0.0.1:3000", True) == "http://10.0.0.1:3000"


def test_a_remote_url_is_refused_without_allow_remote(tmp_path: Path) -> None:
    result = atelier("loadtest", "rate", "--url", "http://10.11.12.13:3000", "--duration", "1", "--out",
                     str(tmp_path), check=False, timeout=30)
    assert result.returncode != 0
    assert "--allow-remote" in result.stderr
    assert not list(tmp_path.iterdir())


@needs_wrk
def test_a_server_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    learning = atelier("loadtest", "max", "--url", url, "--duration", "1", "--out", str(tmp_path), check=False,
                       timeout=60)
    assert learning.returncode != 0
    assert "Traceback" not in learning.stderr
    assert "cannot learn the ids" in learning.stderr and "Connection refused" in learning.stderr
    given = atelier("loadtest", "max", "--url", url, "--mix", "product", "--max-id", "19", "--duration", "1",
                    "--out", str(tmp_path), check=False, timeout=60)
    assert given.returncode != 0
    assert "Traceback" not in given.stderr
    assert "unable to connect" in given.stderr  # wrk's own words
    assert not list(tmp_path.iterdir())


def _count(server: Server, route: str) -> float:
    """The server's own count of answered requests on `route` (all statuses), from /metrics.json."""
    routes = httpx.get(server.url + "/metrics.json", timeout=10).json()["routes"]
    return routes.get(f"GET {route}", {}).get("count", 0)


@needs_wrk
def test_rate_run_is_open_loop_and_reports(server: Server, tmp_path: Path) -> None:
    before = _count(server, "/products/{product_id}")
    result = atelier("loadtest", "rate", "--url", server.url, "--rate", "200", "--duration", "2", "--mix", "product",
                     "--max-id", "19", "--out", str(tmp_path), "--name", "r", timeout=120)
    run = json.loads((tmp_path / "r.json").read_text())
    assert run["scenario"] == "rate" and run["open_loop"] and run["rate"] == 200
    assert run["offered"] == 400
    assert run["status"].get("200", 0) == run["successes"] > 0
    assert run["completed"] + run["errors"]["unanswered"] + run["errors"]["unsent"] \
        + run["errors"]["read"] + run["errors"]["write"] >= run["offered"]
    assert run["throughput"] == pytest.approx(run["successes"] / 400, abs=1e-6)
    lat = run["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert run["generator_cpu"]["seconds"] > 0
    assert sum(p["responses"] for p in run["timeline"]) == run["completed"]
    # The server saw exactly the requests the load generator sent.
    assert _count(server, "/products/{product_id}") - before == run["sent"]
    page = (tmp_path / "r.html").read_text()
    assert "<svg" in page and "Latency over time" in page
    assert "http://" not in page.replace(server.url, "").replace("http://www.w3.org/2000/svg", "")  # no CDN
    assert "requests/s" in result.stdout and "p99" in result.stdout


@needs_wrk
def test_max_run_times_every_request_and_says_how(server: Server, tmp_path: Path) -> None:
    before = _count(server, "/products/{product_id}")
    atelier("loadtest", "max", "--url", server.url, "--duration", "2", "--connections", "8", "--mix", "product",
            "--max-id", "19", "--out", str(tmp_path), "--name", "m", timeout=120)
    run = json.loads((tmp_path / "m.json").read_text())
    assert run["scenario"] == "max" and not run["open_loop"]
    assert run["connections"] == 8 and run["threads"] == 8  # by default, one thread per connection
    assert run["completed"] > 0 and run["requests_per_s"] > 0 and run["error_rate"] == 0
    # The engine timed every response of the run, not a sample.
    assert run["latency_source"] == f"all {run['completed']:,} responses, timed by the engine (from send, in " \
                                    "buckets 2% wide)"
    assert sum(run["histogram"].values()) == run["completed"]
    lat = run["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert [q for q, _ in run["distribution"]][:3] == [1, 5, 10]
    assert all(a[1] <= b[1] for a, b in zip(run["distribution"], run["distribution"][1:]))
    assert all(p["p50"] is not None for p in run["timeline"])  # latency over time
    # Closed loop: the server answered every request counted, and at most one more per connection
    # (those in flight when wrk stopped).
    served = _count(server, "/products/{product_id}") - before
    assert run["completed"] <= served <= run["completed"] + run["connections"]
    page = (tmp_path / "m.html").read_text()
    assert "Latency over time" in page and "Not recorded" not in page and "Latency distribution" in page


@needs_wrk
def test_max_run_with_shared_threads_says_its_latency_is_wrks_corrected_record(server: Server,
                                                                              tmp_path: Path) -> None:
    atelier("loadtest", "max", "--url", server.url, "--duration", "1", "--connections", "10", "--threads", "2",
            "--mix", "product", "--max-id", "19", "--out", str(tmp_path), "--name", "s", timeout=120)
    run = json.loads((tmp_path / "s.json").read_text())
    assert run["connections"] == 10 and run["threads"] == 2 and run["completed"] > 0
    assert run["latency_source"].startswith(f"wrk's record of the {run['completed']:,} responses")
    assert "coordinated omission" in run["latency_source"]
    lat = run["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"]
    assert all(p["p50"] is None for p in run["timeline"])  # no latency over time with shared threads
    assert "Not recorded" in (tmp_path / "s.html").read_text()


def test_the_latency_distribution_has_a_percentile_axis() -> None:
    run = {"distribution": [[1, 0.4], [50, 1.0], [90, 2.0], [99, 5.0], [99.9, 9.0]]}
    chart = html.distribution_chart(run)
    ticks = re.findall(r'text-anchor="middle" fill="#666">([^<]+)<', chart)
    assert ticks == ["50%", "90%", "99%", "99.9%"]  # one tick per nine, in order, as percentiles
    assert "percentile of responses" in chart
    assert html.nines(90) == pytest.approx(1) and html.nines(99.9) == pytest.approx(3)


@needs_wrk
def test_a_run_that_fails_says_why_and_exits_1(server: Server, tmp_path: Path) -> None:
    # The sample holds products 1-19 and 999996-1000011: ids up to 1,000,000 are nearly all missing.
    result = atelier("loadtest", "rate", "--url", server.url, "--rate", "200", "--duration", "1", "--mix", "styles",
                     "--max-id", "1000000", "--out", str(tmp_path), "--name", "f", "--no-html", check=False,
                     timeout=120)
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "more than --max-error-rate 1%" in result.stderr
    assert "404 Not Found: the target does not have the ids asked for" in result.stderr
    run = json.loads((tmp_path / "f.json").read_text())  # the run is still written
    assert run["error_rate"] > 0.9 and run["status"]["404"] > 0


@needs_wrk
def test_ramp_and_compare(server: Server, tmp_path: Path) -> None:
    atelier("loadtest", "ramp", "--url", server.url, "--rates", "100,200", "--duration", "1", "--mix",
            "/products/{id}/related", "--max-id", "19", "--p99-ms", "1000", "--keep-going", "--timeout", "1",
            "--out", str(tmp_path), "--name", "ramp", timeout=120)
    ramp = json.loads((tmp_path / "ramp.json").read_text())
    assert [s["rate"] for s in ramp["steps"]] == [100, 200]
    assert all("passes" in s for s in ramp["steps"])
    assert ramp["knee"] is None or ramp["knee"]["rate"] in (100, 200)
    assert "Ramp curve" in (tmp_path / "ramp.html").read_text()
    atelier("loadtest", "rate", "--url", server.url, "--rate", "100", "--duration", "1", "--mix", "product",
            "--max-id", "19", "--timeout", "1", "--out", str(tmp_path), "--name", "single", "--no-html", timeout=120)
    result = atelier("loadtest", "--compare", str(tmp_path / "ramp.json"), str(tmp_path / "single.json"),
                     str(tmp_path / "single.json"), "--out", str(tmp_path), "--name", "cmp", timeout=60)
    assert "1:ramp" in result.stdout and "3:single" in result.stdout
    assert "requests/s" in result.stdout
    assert (tmp_path / "cmp.html").read_text().count("<svg") >= 3


@needs_wrk
def test_shopper_mix_on_ids_learned_from_the_target(tmp_path: Path) -> None:
    from conftest import create_database, drop_database

    # A small generated data set without defects: every id in its ranges exists.
    data = tmp_path / "data"
    atelier("generate", "--out", str(data), "--scale", "0.0002", "--defect-rate", "0", "--quiet")
    url = create_database()  # the mix writes: not on the shared sample database
    try:
        atelier("load", "--data", str(data), env={"DATABASE_URL": url})
        srv = Server(url)
        try:
            result = atelier("loadtest", "rate", "--url", srv.url, "--rate", "300", "--duration", "2", "--mix",
                             "shopper", "--out", str(tmp_path), "--name", "s", "--no-html", timeout=120)
            routes = httpx.get(srv.url + "/metrics.json", timeout=10).json()["routes"]
        finally:
            srv.stop()
    finally:
        drop_database(url)
    assert "learned from the target" in result.stderr
    run = json.loads((tmp_path / "s.json").read_text())
    assert run["id_ranges"]["product"] == [1, 200] and run["id_ranges"]["page"] == [1, 40]
    assert run["id_ranges"]["question"][0] == 1 and run["id_ranges"]["review"][0] == 1
    assert run["completed"] > 0
    assert run["status"].keys() <= {"200", "201", "204"}  # every id drawn existed: no 404
    seen = {name.split(" ", 1)[0] for name, r in routes.items() if r["count"]}
    assert {"GET", "POST", "PUT"} <= seen  # reads and both kinds of writes reached the server
