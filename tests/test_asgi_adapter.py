"""The ASGI adapter in process: HEAD, CORS headers, a body that ends early (http.disconnect)."""

from __future__ import annotations

import asyncio
from typing import Any

from atelier.core.app import App
from atelier.core.asgi import ASGIApp
from atelier.core.config import Settings
from atelier.core.http import Request, Response, Router, json_response


async def _product(request: Request) -> Response:
    return json_response({"id": request.params["product_id"]})


def _serve(method: str, path: str, messages: list[dict[str, Any]],
           headers: list[tuple[bytes, bytes]] | None = None) -> list[dict[str, Any]]:
    router = Router()
    router.add("GET", "/products/{product_id}", _product)
    router.add("POST", "/products/{product_id}", _product)
    adapter = ASGIApp(App(Settings(database_url=None), router))
    scope = {"type": "http", "method": method, "path": path, "query_string": b"", "headers": headers or []}
    incoming = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(adapter(scope, receive, send))
    return sent


def test_head_sends_the_get_headers_and_no_body() -> None:
    get = _serve("GET", "/products/7/", [{"type": "http.request", "body": b""}])
    head = _serve("HEAD", "/products/7/", [{"type": "http.request", "body": b""}])
    assert get[0]["status"] == head[0]["status"] == 200
    assert get[1]["body"] == b'{"id":"7"}' and head[1]["body"] == b""
    assert (b"content-length", b"10") in head[0]["headers"]
    assert (b"access-control-allow-origin", b"*") in head[0]["headers"]


def test_cors_follows_the_origin() -> None:
    sent = _serve("GET", "/api/fec2/hr-rfp/products/1", [{"type": "http.request", "body": b""}],
                  [(b"origin", b"http://front.example")])
    assert (b"access-control-allow-origin", b"http://front.example") in sent[0]["headers"]
    assert (b"access-control-allow-credentials", b"true") in sent[0]["headers"]


def test_a_body_that_ends_early_is_a_400() -> None:
    sent = _serve("POST", "/products/1", [{"type": "http.request", "body": b"{", "more_body": True},
                                          {"type": "http.disconnect"}])
    assert sent[0]["status"] == 400 and b"incomplete" in sent[1]["body"]
