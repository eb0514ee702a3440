"""A front end on another origin, in headless Chromium: `tests/front/index.html`, served by a small
static server on its own port, calls every endpoint with `fetch` (an `Authorization` header,
`credentials: "include"`, JSON bodies), and shows what came back. With the default settings no
request fails and the page shows the API's answers, the cart cookie included; with the allowed
origins set to another one, every request of the page fails, for CORS reasons."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import ROOT, SAMPLE, Server, atelier, create_database, drop_database, free_port

from atelier.loadtest.browser import Browser, find_chromium

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (bench/install-tools.sh)")

FRONT = ROOT / "tests" / "front"
CALLS = 21  # the page's fetch calls
# What each call must answer when CORS lets the page through.
EXPECTED = {"GET": 200, "POST": 201, "PUT": 204}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front() -> Iterator[str]:
    """The page's origin: a static file server on a port of its own."""
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(_Quiet, directory=str(FRONT)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = create_database()
    try:
        atelier("load", "--data", str(SAMPLE), "--rejects", str(ROOT / "build" / "browser-rejects"),
                env={"DATABASE_URL": url})
        yield url
    finally:
        drop_database(url)


def run_page(front: str, api: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """The page's results, the network failures Chromium reported, and what the page shows per call."""
    with Browser() as browser:
        browser.open(f"{front}/index.html?api={api}", enable=("Network",))
        browser.wait_for("window.done === true", timeout=60)
        results = browser.evaluate("window.results")
        shown = browser.evaluate("Object.fromEntries([...document.querySelectorAll('#calls tr')]"
                                 ".map(tr => [tr.dataset.name, tr.querySelector('pre').textContent]))")
        shown["cart"] = browser.evaluate("document.getElementById('cart').textContent")
        failures = [e["params"] for e in browser.events if e["method"] == "Network.loadingFailed"]
    return results, failures, shown


def test_a_front_end_on_another_origin_uses_every_endpoint(database: str, front: str) -> None:
    server = Server(database)
    try:
        results, failures, shown = run_page(front, server.url)
        assert len(results) == CALLS
        assert not failures, failures
        for r in results:
            assert r["error"] is None, r
            assert r["status"] == EXPECTED[r["method"]], r
        by_name = {r["name"]: r for r in results}
        # The page shows the API's own answers (the reads that no write of the page changes: bytes).
        with httpx.Client(base_url=server.url, timeout=10) as api:
            for name in ("products", "product", "styles", "related"):
                assert shown[name] == api.get(by_name[name]["path"]).text, name
            assert shown["questions"] and '"Is it machine washable?"' in shown["questions"]
            assert '"Yes, cold."' in shown["answers"]
            assert '"product_id":"1"' in shown["reviews meta"].replace(" ", "")
        # The cart cookie travelled: the session's cart holds the sku the page added.
        assert shown["cart before"] == "[]"
        assert shown["cart"] == '[{"sku_id":3,"count":1}]'
    finally:
        server.stop()


def test_a_front_end_on_an_origin_not_allowed_gets_nothing(database: str, front: str) -> None:
    server = Server(database, extra_env={"ATELIER_CORS_ORIGINS": "http://127.0.0.1:1,https://shop.example"})
    try:
        results, failures, _ = run_page(front, server.url)
        assert len(results) == CALLS
        for r in results:
            assert r["status"] is None and r["error"], r
        cors = [f for f in failures if f.get("corsErrorStatus")]
        assert len(cors) >= CALLS, failures  # each call refused for CORS reasons (its preflight or itself)
        with httpx.Client(base_url=server.url, timeout=10) as api:  # and no write went through
            questions = api.get("/qa/questions", params={"product_id": 1}).json()["results"]
            assert not [q for q in questions if q["question_body"] == "Is it machine washable?"]
    finally:
        server.stop()
