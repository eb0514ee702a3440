"""/dashboard: a self-contained page, and live charts in headless Chromium while the API is under load."""

from __future__ import annotations

import re
import shutil
import threading
import time

import httpx
import pytest
from conftest import ROOT, Server, atelier

from atelier.loadtest.browser import Browser, find_chromium

SCREENSHOT = ROOT / "reports" / "dashboard-under-load.png"


def test_dashboard_page_is_self_contained(client: httpx.Client) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script>" in page and "/metrics.json" in page
    # No CDN, no second request for assets: every src/href is local or absent.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)
    assert "<!--DASHBOARD-SCRIPT-->" not in page


def _load(url: str, seconds: float) -> threading.Thread:
    """Background load for `seconds`: wrk through `atelier loadtest` when installed, else plain requests."""
    def run() -> None:
        if shutil.which("wrk"):
            # Products 1-19 of the legacy sample: every request answers 200 (the sample has no Q&A to ask for).
            atelier("loadtest", "rate", "--url", url, "--rate", "300", "--duration", str(seconds), "--mix", "product",
                    "--max-id", "19", "--out", str(ROOT / "build" / "dashboard-load"), "--no-html", timeout=120)
        else:
            deadline = time.monotonic() + seconds
            with httpx.Client(base_url=url, timeout=10) as c:
                while time.monotonic() < deadline:
                    c.get("/products/1")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(find_chromium() is None,
                    reason="chromium is not installed (apt-get install -y chromium, or `make tools`)")
def test_dashboard_draws_live_figures_under_load(sample_db: str) -> None:
    server = Server(sample_db, workers=2)
    try:
        load = _load(server.url, 6)
        with Browser(width=1280, height=900) as browser:
            browser.open(server.url + "/dashboard?interval=1000")
            points = browser.wait_for(
                "(() => { const s = window.atelierDashboard;"
                " return s && s.history.length >= 3 && s.history[s.history.length - 1].rps > 0"
                " && s.history.length; })()", timeout=30)
            assert points >= 3
            rows = browser.evaluate("[...document.querySelectorAll('#routes tbody tr td:first-child')]"
                                    ".map(td => td.textContent)")
            assert "GET /products/{product_id}" in rows
            assert browser.evaluate("document.getElementById('v-rps').textContent") not in ("", "–")
            assert browser.evaluate("window.atelierDashboard.errors") == 0
            assert browser.evaluate("document.getElementById('procs').textContent") == "2 API process(es)"
            # The canvases were drawn on (some pixel is not white).
            drawn = browser.evaluate(
                "(() => { const c = document.getElementById('c-rps'); const d = c.getContext('2d')"
                ".getImageData(0, 0, c.width, c.height).data;"
                " for (let i = 0; i < d.length; i += 4) if (d[i] < 200) return true; return false; })()")
            assert drawn
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            png = browser.screenshot(SCREENSHOT)
            assert png.startswith(b"\x89PNG") and len(png) > 10_000
        load.join(60)
    finally:
        server.stop()


@pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_dashboard_says_when_metrics_are_off(sample_db: str) -> None:
    server = Server(sample_db, extra_env={"ATELIER_METRICS": "0"})
    try:
        with Browser() as browser:
            browser.open(server.url + "/dashboard")
            assert browser.wait_for("document.getElementById('status').textContent === 'metrics disabled'")
            assert browser.evaluate("getComputedStyle(document.getElementById('disabled')).display") == "block"
    finally:
        server.stop()
