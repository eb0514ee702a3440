"""Adapter from ASGI (uvicorn, hypercorn, Granian's ASGI mode) to the App."""

from __future__ import annotations

from typing import Any

from .app import MAX_BODY, App
from .http import Request


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
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _send(send, 413, [(b"content-type", b"text/plain")], b"Request body too large")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        request = Request(
            self.app, scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, b"".join(chunks)
        )
        response = await self.app.handle(request)
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.content_type is not None:
            out.insert(0, (b"content-type", response.content_type.encode()))
        await _send(send, response.status, out, response.body)


async def _send(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
