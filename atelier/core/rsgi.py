"""Adapter from Granian's RSGI protocol (the fastest way into Granian) to the App."""

from __future__ import annotations

import asyncio
from typing import Any

from .app import MAX_BODY, App
from .http import Request

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


class RSGIApp:
    def __init__(self, app: App) -> None:
        self.app = app

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.app.start()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.run_until_complete(self.app.stop())
        except Exception:
            pass

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        body = b""
        if scope.method in _BODY_METHODS:
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > MAX_BODY:
                proto.response_bytes(413, [("content-type", "text/plain")], b"Request body too large")
                return
            body = await proto()
            if len(body) > MAX_BODY:
                proto.response_bytes(413, [("content-type", "text/plain")], b"Request body too large")
                return
        request = Request(self.app, scope.method, scope.path, scope.query_string, headers, body)
        response = await self.app.handle(request)
        out = response.headers
        if response.content_type is not None:
            out = [("content-type", response.content_type), *out]
        if response.status == 204:
            proto.response_empty(204, out)
        else:
            proto.response_bytes(response.status, out, response.body)
