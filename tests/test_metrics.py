"""Metrics: per-process memory-mapped files summed by /metrics, on real processes and a real server."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from conftest import ROOT, Server

from atelier.core import metrics

SAMPLE_LINE = re.compile(r'^(\w+)(?:\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})? (\S+)$')


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text -> {(name, labels): value}; also checks every line is well formed."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")) or not line, line
            continue
        m = SAMPLE_LINE.match(line)
        assert m, f"malformed sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def record(directory: Path, script: str) -> None:
    """Runs `script` in a separate Python process that writes its metrics into `directory`."""
    code = "from atelier.core import metrics\n" + script
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "ATELIER_METRICS_DIR": str(directory), "ATELIER_METRICS": "1"})


def snapshot_of(directory: Path, monkeypatch: pytest.MonkeyPatch) -> metrics.Snapshot:
    monkeypatch.setenv("ATELIER_METRICS_DIR", str(directory))
    return metrics.snapshot()


def test_counters_of_separate_processes_are_summed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "s = metrics.store()\nfor _ in range(3): s.observe('/products/{product_id}', 'GET', 200, 0.002)\n"
                     "metrics.count('cache_hits', '/products/{product_id}', 5)")
    record(tmp_path, "s = metrics.store()\nfor _ in range(4): s.observe('/products/{product_id}', 'GET', 200, 0.3)\n"
                     "s.observe('/products/{product_id}', 'GET', 404, 0.0001)\n"
                     "metrics.count('cache_hits', '/products/{product_id}')\nmetrics.count('cache_misses', '/x')")
    assert len(list(tmp_path.glob("worker-*.metrics"))) == 2
    snap = snapshot_of(tmp_path, monkeypatch)
    ok = snap.series[("/products/{product_id}", "GET", 200)]
    assert ok[0] == 7  # count
    assert ok[1] == pytest.approx(3 * 0.002 + 4 * 0.3)  # sum of seconds
    assert sum(ok[2:]) == 7  # every request in exactly one bucket
    assert snap.series[("/products/{product_id}", "GET", 404)][0] == 1
    assert snap.counters[("cache_hits", "/products/{product_id}")] == 6
    assert snap.counters[("cache_misses", "/x")] == 1


def test_prometheus_text_has_cumulative_buckets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "s = metrics.store()\n"
                     "for v in (0.00005, 0.0012, 0.0012, 0.04, 20.0): s.observe('/r', 'GET', 200, v)")
    text = metrics.prometheus(snapshot_of(tmp_path, monkeypatch))
    samples = parse(text)
    labels = {("route", "/r"), ("method", "GET"), ("status", "200")}
    bucket = "atelier_http_request_duration_seconds_bucket"

    def le(bound: str) -> float:
        return samples[(bucket, frozenset(labels | {("le", bound)}))]

    assert le("0.0001") == 1
    assert le("0.001") == 1
    assert le("0.0015") == 3
    assert le("0.05") == 4
    assert le("10") == 4
    assert le("+Inf") == 5  # 20 s is beyond the last finite bound
    assert samples[("atelier_http_request_duration_seconds_count", frozenset(labels))] == 5
    assert samples[("atelier_http_requests_total", frozenset(labels))] == 5
    values = [v for (name, lab), v in samples.items() if name == bucket]
    assert len(values) == len(metrics.BOUNDS) + 1
    assert "# TYPE atelier_http_request_duration_seconds histogram" in text


def test_gauges_of_processes_that_ended_are_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "metrics.set_gauge('pending_writes', 7)\nmetrics.count('cache_hits', '/a', 2)")
    snap = snapshot_of(tmp_path, monkeypatch)
    assert snap.counters[("cache_hits", "/a")] == 2  # a counter's past still counts
    assert ("pending_writes", "") not in snap.gauges  # a dead process holds nothing pending
    assert snap.processes == 0


def test_gauge_api_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_METRICS_DIR", str(tmp_path))
    monkeypatch.setattr(metrics, "_store", None)
    metrics.set_gauge("pending_writes", 3)
    metrics.add_gauge("pending_writes", 2)
    metrics.add_gauge("pending_writes", -1)
    snap = metrics.snapshot()
    assert snap.gauges[("pending_writes", "")] == 4
    assert snap.processes == 1
    assert "atelier_pending_writes 4" in metrics.prometheus(snap).splitlines()
    with pytest.raises(ValueError):
        metrics.count("Bad-Name")
    monkeypatch.setattr(metrics, "_store", None)


def test_label_values_are_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "metrics.count('cache_hits', 'a\"b\\\\c')")
    text = metrics.prometheus(snapshot_of(tmp_path, monkeypatch))
    assert 'atelier_cache_hits_total{route="a\\"b\\\\c"} 1' in text.splitlines()


def test_a_full_file_counts_new_series_as_overflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    total = metrics.SLOTS // metrics.SERIES_WIDTH + 5
    record(tmp_path, f"s = metrics.store()\nfor i in range({total}): s.observe(f'/r{{i}}', 'GET', 200, 0.001)")
    snap = snapshot_of(tmp_path, monkeypatch)
    assert len(snap.series) == (metrics.SLOTS - 2) // metrics.SERIES_WIDTH  # two slots hold the pool gauges
    assert sum(v[0] for v in snap.series.values()) == total  # nothing lost: the rest is counted as overflow
    assert snap.series[("overflow", "OTHER", 0)][0] >= 5


def test_unknown_methods_share_one_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record(tmp_path, "s = metrics.store()\nfor m in ('BREW', 'FOO', 'GET'): s.observe('unmatched', m, 404, 0.001)")
    snap = snapshot_of(tmp_path, monkeypatch)
    assert snap.series[("unmatched", "OTHER", 404)][0] == 2
    assert snap.series[("unmatched", "GET", 404)][0] == 1


# On the real server -----------------------------------------------------------------------


@pytest.fixture()
def two_workers(sample_db: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    srv = Server(sample_db, workers=2, extra_env={"TMPDIR": str(tmp_path)})
    try:
        yield srv
    finally:
        srv.stop()


def test_metrics_sum_every_worker(two_workers: Server, tmp_path: Path) -> None:
    n = 60
    for _ in range(n):  # a new connection each time: the workers share them out
        assert httpx.get(two_workers.url + "/products/1", timeout=10).status_code == 200
    with httpx.Client(base_url=two_workers.url, timeout=10) as c:
        assert c.get("/products/999999999").status_code == 404
        assert c.get("/no/such/path").status_code == 404
        text = c.get("/metrics").text
        summary = c.get("/metrics.json").json()
    samples = parse(text)
    route = frozenset({("route", "/products/{product_id}"), ("method", "GET"), ("status", "200")})
    assert samples[("atelier_http_requests_total", route)] == n
    missing = frozenset({("route", "/products/{product_id}"), ("method", "GET"), ("status", "404")})
    assert samples[("atelier_http_requests_total", missing)] == 1
    unmatched = frozenset({("route", "unmatched"), ("method", "GET"), ("status", "404")})
    assert samples[("atelier_http_requests_total", unmatched)] == 1
    assert samples[("atelier_metrics_processes", frozenset())] == 2
    assert samples[("atelier_db_pool_in_use", frozenset())] == 0  # nothing in flight once answered
    assert samples[("atelier_db_pool_waiting", frozenset())] == 0
    # The JSON the dashboard polls says the same.
    product = summary["routes"]["GET /products/{product_id}"]
    assert product["count"] == n + 1 and product["4xx"] == 1 and product["5xx"] == 0
    assert sum(product["buckets"]) == n + 1
    assert summary["processes"] == 2 and summary["bounds"] == list(metrics.BOUNDS)
    # Each worker has its file in the directory `serve` made under TMPDIR, and the sum is theirs.
    files = list(tmp_path.glob("atelier-metrics-*/worker-*.metrics"))
    assert len(files) == 2
    per_worker = []
    for f in files:
        counts = {tuple(k): v[0] for k, v in metrics.read_file(f.read_bytes()) if k[0] == "h"}
        per_worker.append(counts.get(("h", "/products/{product_id}", "GET", 200), 0))
    assert sum(per_worker) == n


def test_serve_removes_the_directory_it_made(sample_db: str, tmp_path: Path) -> None:
    srv = Server(sample_db, extra_env={"TMPDIR": str(tmp_path)})
    httpx.get(srv.url + "/products/1")
    assert list(tmp_path.glob("atelier-metrics-*"))
    srv.stop()
    assert not list(tmp_path.glob("atelier-metrics-*"))


def test_metrics_can_be_turned_off(sample_db: str, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    srv = Server(sample_db, extra_env={"ATELIER_METRICS": "0", "ATELIER_METRICS_DIR": str(directory)})
    try:
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get("/products/1").status_code == 200
            text = c.get("/metrics")
            assert text.status_code == 200 and "disabled" in text.text
            assert "atelier_http_requests_total" not in text.text
            assert c.get("/metrics.json").json() == {"enabled": False}
    finally:
        srv.stop()
    assert not directory.exists() or not list(directory.iterdir())


def test_a_given_directory_is_kept_and_stale_files_removed(sample_db: str, tmp_path: Path) -> None:
    stale = tmp_path / "worker-999999999.metrics"  # no such process
    stale.write_bytes(b"x" * 64)
    other = tmp_path / "notes.txt"
    other.write_text("kept")
    srv = Server(sample_db, extra_env={"ATELIER_METRICS_DIR": str(tmp_path)})
    try:
        httpx.get(srv.url + "/products/1")
        assert not stale.exists()
        assert other.read_text() == "kept"
        assert len(list(tmp_path.glob("worker-*.metrics"))) == 1
    finally:
        srv.stop()
    assert tmp_path.is_dir()


def test_pending_writes_are_the_interactions_not_yet_committed(empty_db: str) -> None:
    """Rows of POST /interactions held up by a lock on their table count as pending, then drain to 0."""
    srv = Server(empty_db)  # serve creates the schemas; the writes stay out of the shared sample database
    rows = 12

    async def scenario() -> tuple[list[int], float, float]:
        conn = await asyncpg.connect(empty_db)
        try:
            lock = conn.transaction()
            await lock.start()
            await conn.execute("LOCK TABLE interactions.interaction IN SHARE MODE")  # inserts wait for it
            body = {"element": "img", "widget": "related", "time": "2021-03-17T12:00:00.000Z"}
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as c:
                posts = [asyncio.ensure_future(c.post("/interactions", json=body)) for _ in range(rows)]
                held = await _gauge_when(c, lambda v: v == rows)
                await lock.rollback()  # the inserts go through
                statuses = [r.status_code for r in await asyncio.gather(*posts)]
                drained = await _gauge_when(c, lambda v: v == 0)
            return statuses, held, drained
        finally:
            await conn.close()

    try:
        statuses, held, drained = asyncio.run(scenario())
    finally:
        srv.stop()
    assert statuses == [201] * rows
    assert held == rows and drained == 0


async def _gauge_when(client: httpx.AsyncClient, done: Callable[[float], bool], seconds: float = 20) -> float:
    """The pending_writes gauge from /metrics once `done(value)` holds (or at the deadline)."""
    deadline = time.monotonic() + seconds
    while True:
        samples = parse((await client.get("/metrics")).text)
        value = samples[("atelier_pending_writes", frozenset())]
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)
