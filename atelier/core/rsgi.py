"""Adapter from Granian's RSGI protocol (the fastest way into Granian) to the App."""

from __future__ import annotations

import asyncio
from typing import Any

from granian.rsgi import ProtocolClosed, ProtocolError

from .app import MAX_BODY, App
from .http import Request
from .truncated import BODY as TRUNCATED_BODY
from .truncated import early_ends

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
_TEXT = "text/plain; charset=utf-8"


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
                self._plain(proto, headers, 413, b"Request body too large")
                return
            try:
                body = await proto()
            except (ProtocolClosed, ProtocolError):
                early_ends.note()
                self._plain(proto, headers, 400, TRUNCATED_BODY)
                return
            if len(body) > MAX_BODY:
                self._plain(proto, headers, 413, b"Request body too large")
                return
        request = Request(self.app, scope.method, scope.path, scope.query_string, headers, body)
        response = await self.app.handle(request)
        out = self.app.wire_headers(headers.get("origin"), response)
        if response.status == 204:
            proto.response_empty(204, out)
        else:
            # For HEAD, Granian sends these headers (Content-Length of this body included) and no body.
            proto.response_bytes(response.status, out, response.body)

    def _plain(self, proto: Any, headers: Any, status: int, body: bytes) -> None:
        out = [("content-type", _TEXT), *self.app.cors.headers(headers.get("origin"))]
        try:
            proto.response_bytes(status, out, body)
        except (ProtocolClosed, ProtocolError):
            pass  # the client is gone: nobody to answer
