"""Adapter from ASGI (uvicorn, hypercorn, Granian's ASGI mode) to the App."""

from __future__ import annotations

from typing import Any

from .app import MAX_BODY, App
from .http import Request
from .truncated import BODY as TRUNCATED_BODY
from .truncated import early_ends

_TEXT = b"text/plain; charset=utf-8"


class ASGIApp:
    def __init__(self, app: App) -> None:
        self.app = app
        self._started = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.app.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.app.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if not self._started:
            self.app.start()
            self._started = True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":  # mid-body: the client is gone or the framing broke
                early_ends.note()
                await self._plain(send, origin, 400, TRUNCATED_BODY)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await self._plain(send, origin, 413, b"Request body too large")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        request = Request(
            self.app, scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, b"".join(chunks)
        )
        response = await self.app.handle(request)
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.app.wire_headers(origin, response)]
        body = response.body
        if scope["method"] == "HEAD":  # the GET's headers, its length included, and no body
            out.append((b"content-length", str(len(body)).encode()))
            body = b""
        await _send(send, response.status, out, body)

    async def _plain(self, send: Any, origin: str | None, status: int, body: bytes) -> None:
        out = [(b"content-type", _TEXT)]
        out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.app.cors.headers(origin)]
        try:
            await _send(send, status, out, body)
        except Exception:  # the client is gone (servers differ in what they raise): nobody to answer
            pass


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
