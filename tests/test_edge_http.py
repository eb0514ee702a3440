"""The HTTP edge, black box against a real server: every route in every spelling (trailing slash, the
legacy base path), HEAD, 405 with Allow, CORS on answers and preflights, Authorization ignored, and
malformed framing. The server runs on a database of its own: the writes here change nothing elsewhere."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, SAMPLE, Server, loaded_database

from atelier.core.http import Route
from atelier.server import create_app

SPELLINGS = ("{}/", "/api/fec2/hr-rfp{}", "/api/fec2/another-campus{}/")
ORIGIN = "http://front.example:8080"
# Bodies that the write routes accept (201/204), in the types the contract names.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/reviews"): {"product_id": 1, "rating": 4, "summary": "Edge", "body": "Fits well.", "recommend": True,
                           "name": "edge", "email": "edge@example.com", "photos": [],
                           "characteristics": {"1": 5, "2": 3}},
    ("POST", "/qa/questions"): {"body": "Does it fit?", "name": "edge", "email": "edge@example.com", "product_id": 1},
    ("POST", "/qa/questions/{question_id}/answers"): {"body": "It does.", "name": "edge",
                                                      "email": "edge@example.com", "photos": []},
    ("POST", "/cart"): {"sku_id": 1},
    ("POST", "/interactions"): {"element": "button", "widget": "overview", "time": "2026-12-01T10:00:00.000Z"},
}


@pytest.fixture(scope="module")
def edge_db() -> Iterator[str]:
    with loaded_database(SAMPLE, rejects=ROOT / "build" / "edge-rejects") as url:
        yield url


@pytest.fixture(scope="module")
def edge(edge_db: str) -> Iterator[Server]:
    server = Server(edge_db)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def restricted(edge_db: str) -> Iterator[Server]:
    """A second server, with configured origins (and a log that only the tests using it write to)."""
    server = Server(edge_db, extra_env={"ATELIER_CORS_ORIGINS": f"{ORIGIN},https://shop.example"})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(edge: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge.url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def ids(api: httpx.Client) -> dict[str, str]:
    """Path parameters of rows that exist: a question and an answer are posted (the sample has none)."""
    assert api.post("/qa/questions", json=BODIES[("POST", "/qa/questions")]).status_code == 201
    question = api.get("/qa/questions", params={"product_id": 1}).json()["results"][0]["question_id"]
    answer_body = BODIES[("POST", "/qa/questions/{question_id}/answers")]
    assert api.post(f"/qa/questions/{question}/answers", json=answer_body).status_code == 201
    answer = api.get(f"/qa/questions/{question}/answers").json()["results"][0]["answer_id"]
    return {"product_id": "1", "review_id": "1", "question_id": str(question), "answer_id": str(answer)}


def _routes() -> list[Route]:
    return create_app().router.routes


def _path(route: Route, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), route.template)


def _same(a: httpx.Response, b: httpx.Response, volatile: bool) -> None:
    assert a.status_code == b.status_code
    assert a.headers.get("content-type") == b.headers.get("content-type")
    if not volatile:
        assert a.content == b.content


def test_every_get_answers_the_same_bytes_in_every_spelling(api: httpx.Client, ids: dict[str, str]) -> None:
    checked = 0
    for route in _routes():
        if route.method != "GET":
            continue
        path = _path(route, ids)
        for query in ("", "?product_id=1&count=3&page=1"):
            bare = api.get(path + query)
            # an answer that changes by itself between two calls (metrics, a new cart session) compares by status
            volatile = api.get(path + query).content != bare.content
            for spelling in SPELLINGS:
                _same(api.get(spelling.format(path) + query), bare, volatile)
                checked += 1
    assert checked >= 2 * 3 * 10


def test_every_write_answers_the_same_in_every_spelling(api: httpx.Client, ids: dict[str, str]) -> None:
    for route in _routes():
        if route.method == "GET":
            continue
        path = _path(route, ids)
        body = BODIES.get((route.method, route.template), {})
        bare = api.request(route.method, path, json=body)
        if (route.method, route.template) in BODIES or route.method == "PUT":
            assert bare.status_code in (201, 204), (route.template, bare.text)
        for spelling in SPELLINGS:
            again = api.request(route.method, spelling.format(path), json=body)
            _same(again, bare, volatile=False)


def test_legacy_prefix_and_trailing_slash_before_a_query(api: httpx.Client) -> None:
    """The URLs published front ends send."""
    for path in ("/reviews/meta/?product_id=1", "/reviews/?product_id=1&sort=newest&count=50",
                 "/qa/questions/?product_id=1&count=100", "/products/1/", "/products/?count=2"):
        bare = api.get(path.replace("/?", "?").rstrip("/"))
        assert bare.status_code == 200
        for url in (path, "/api/fec2/hr-rfp" + path):
            assert api.get(url).content == bare.content


def test_head_for_every_get(api: httpx.Client, ids: dict[str, str]) -> None:
    for route in _routes():
        if route.method != "GET":
            continue
        path = _path(route, ids) + "?product_id=1"
        get, head = api.get(path), api.head(path)
        assert head.status_code == get.status_code, path
        assert head.content == b""
        assert head.headers.get("content-type") == get.headers.get("content-type")
        if "set-cookie" not in get.headers and route.template not in ("/metrics", "/metrics.json"):
            assert int(head.headers["content-length"]) == len(get.content), path


def test_405_carries_allow(api: httpx.Client, ids: dict[str, str]) -> None:
    by_path: dict[str, set[str]] = {}
    for route in _routes():
        by_path.setdefault(_path(route, ids), set()).add(route.method)
    for path, methods in by_path.items():
        r = api.request("DELETE", path + "/")
        assert r.status_code == 405
        allowed = {m.strip() for m in r.headers["allow"].split(",")}
        assert allowed == methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        for other in {"GET", "POST", "PUT"} - methods:
            assert api.request(other, path).headers["allow"] == r.headers["allow"]


def test_cors_on_answers_of_every_kind(api: httpx.Client) -> None:
    cases = [("GET", "/products/1", 200), ("GET", "/products/424242", 404), ("GET", "/nowhere", 404),
             ("POST", "/products/1", 405), ("GET", "/reviews?product_id=abc", 422), ("POST", "/cart", 422),
             ("POST", "/interactions", 201)]
    for method, path, status in cases:
        body = BODIES.get((method, path)) if status == 201 else {"sku_id": "x"}
        r = api.request(method, path, json=body, headers={"Origin": ORIGIN})
        assert r.status_code == status, (method, path)
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert r.headers["access-control-allow-credentials"] == "true"
        assert r.headers["vary"].lower() == "origin"
    r = api.get("/products/1")  # no Origin: not a cross-origin browser request
    assert r.headers["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in r.headers


def test_preflight(api: httpx.Client) -> None:
    for path in ("/reviews/", "/qa/questions/1/helpful", "/api/fec2/hr-rfp/cart", "/interactions"):
        r = api.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "authorization, content-type"})
        assert r.status_code == 204 and r.content == b""
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert r.headers["access-control-allow-credentials"] == "true"
        methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
        assert {"GET", "HEAD", "POST", "PUT", "OPTIONS"} <= methods
        allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {"authorization", "content-type"} <= allowed
        assert int(r.headers["access-control-max-age"]) >= 600


def test_authorization_is_accepted_and_ignored(api: httpx.Client) -> None:
    auth = {"Authorization": "Bearer not-a-real-token"}
    assert api.get("/products/1/styles", headers=auth).content == api.get("/products/1/styles").content
    meta = api.get("/reviews/meta", params={"product_id": 1}, headers={"Authorization": "ghp_legacy"})
    assert meta.status_code == 200
    assert api.put("/reviews/2/helpful", headers=auth).status_code == 204
    assert api.post("/interactions", json=BODIES[("POST", "/interactions")], headers=auth).status_code == 201


def test_refused_origin_gets_no_cors_headers(restricted: Server) -> None:
    with httpx.Client(base_url=restricted.url, timeout=10) as c:
        r = c.get("/products/1", headers={"Origin": "https://shop.example"})
        assert r.headers["access-control-allow-origin"] == "https://shop.example"
        for origin in ("http://evil.example", "http://front.example:8081", "null"):
            r = c.get("/products/1", headers={"Origin": origin})
            assert r.status_code == 200 and r.headers["vary"].lower() == "origin"
            assert not [name for name in r.headers if name.startswith("access-control-")]
            r = c.options("/reviews", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
            assert not [name for name in r.headers if name.startswith("access-control-")]


# Malformed framing and clients that leave mid-body ------------------------------------------------------


def _raw(server: Server, data: bytes, wait: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


@pytest.mark.parametrize(("name", "request_bytes"), [
    ("malformed chunk size", b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"),
    ("chunk longer than announced", b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n"),
    ("body shorter than Content-Length", b"Content-Length: 100\r\n\r\n{\"a\""),
    ("Content-Length not a number", b"Content-Length: abc\r\n\r\n{}"),
    ("two different Content-Lengths", b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
    ("negative Content-Length", b"Content-Length: -1\r\n\r\n{}"),
])
def test_malformed_framing_is_a_4xx(edge: Server, name: str, request_bytes: bytes) -> None:
    head = b"POST /interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    answer = _raw(edge, head + request_bytes)
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, (name, answer)


def test_clients_leaving_mid_body_write_one_line_and_no_traceback(restricted: Server) -> None:
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", restricted.port), timeout=5) as s:
            s.sendall(b"POST /reviews HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 5000\r\n\r\n{\"product_id\": 1, ")
        # closed with 4,980 bytes missing
    log = Path(restricted.log.name)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "ended early" not in log.read_text():
        time.sleep(0.1)
    assert httpx.get(restricted.url + "/products/1", timeout=10).status_code == 200
    written = [line for line in log.read_text().splitlines() if line.strip() and "[INFO]" not in line]
    assert len(written) == 1 and "ended early" in written[0], written
    assert "Traceback" not in log.read_text()
