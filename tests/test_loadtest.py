"""`atelier loadtest`: mixes and safety checks, and short real runs of wrk against the real server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from conftest import Server, atelier, free_port

from atelier.loadtest import mixes
from atelier.loadtest.cli import check_url, is_loopback, parse_rates

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
    uniform = mixes.id_ranges(1_000_011, "uniform")
    assert uniform["product"] == (1, 1_000_011)
    assert uniform["question"] == (1, 3_518_963)  # the legacy row counts at full scale
    assert uniform["review"] == (1, 5_774_952)
    assert uniform["page"] == (1, 200_003)
    recent = mixes.id_ranges(1_000_011, "recent")
    assert recent["product"] == (900_011, 1_000_011)  # the last 10%
    assert mixes.id_ranges(19, "recent")["product"] == (19, 19)
    with pytest.raises(ValueError):
        mixes.id_ranges(0, "uniform")


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
    result = atelier("loadtest", "max", "--url", f"http://127.0.0.1:{free_port()}", "--duration", "1",
                     "--out", str(tmp_path), check=False, timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "unable to connect" in result.stderr


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
def test_max_run_times_requests_on_probe_connections(server: Server, tmp_path: Path) -> None:
    atelier("loadtest", "max", "--url", server.url, "--duration", "2", "--connections", "10", "--threads", "2",
            "--mix", "legacy", "--max-id", "19", "--out", str(tmp_path), "--name", "m", "--no-html", timeout=120)
    run = json.loads((tmp_path / "m.json").read_text())
    assert run["scenario"] == "max" and not run["open_loop"]
    assert run["connections"] == 10 and run["threads"] == 2
    assert "probe connections" in run["latency_timed"]
    assert run["completed"] > 0 and run["requests_per_s"] > 0
    assert run["latency_ms"]["p50"] is not None
    assert set(run["status"]) <= {"200", "404", "422", "500", "503"}
    assert not (tmp_path / "m.html").exists()


@needs_wrk
def test_ramp_and_compare(server: Server, tmp_path: Path) -> None:
    atelier("loadtest", "ramp", "--url", server.url, "--rates", "100,200", "--duration", "1", "--mix",
            "/products/{id}/related", "--max-id", "19", "--p99-ms", "1000", "--keep-going", "--timeout", "1", "--out", str(tmp_path),
            "--name", "ramp", timeout=120)
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
def test_shopper_mix_sends_reads_and_writes(tmp_path: Path) -> None:
    from conftest import create_database, drop_database

    url = create_database()  # the mix writes: not on the shared sample database
    try:
        atelier("load", "--data", str(Path(__file__).parent.parent / "atelier" / "legacy_sample"), "--rejects",
                str(tmp_path / "rejects"), env={"DATABASE_URL": url})
        srv = Server(url)
        try:
            atelier("loadtest", "rate", "--url", srv.url, "--rate", "300", "--duration", "2", "--mix", "shopper",
                    "--max-id", "19", "--out", str(tmp_path), "--name", "s", "--no-html", timeout=120)
            routes = httpx.get(srv.url + "/metrics.json", timeout=10).json()["routes"]
        finally:
            srv.stop()
    finally:
        drop_database(url)
    run = json.loads((tmp_path / "s.json").read_text())
    assert run["completed"] > 0
    seen = {name.split(" ", 1)[0] for name, r in routes.items() if r["count"]}
    assert {"GET", "POST", "PUT"} <= seen  # reads and both kinds of writes reached the server
