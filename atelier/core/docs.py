"""`/openapi.json` and `/docs`: the OpenAPI document and Swagger UI, where every request can be
tried against the running server. Swagger UI's assets come from the `swagger-ui-bundle-v2` wheel
and are served by atelier itself (no CDN)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from .. import __version__
from .http import Handler, Request, Response, raw_json
from .openapi import document
from .operations import Answer, Operation, json_answer

HTML = "text/html; charset=utf-8"
ASSETS = {"swagger-ui.css": "text/css; charset=utf-8", "swagger-ui-bundle.js": "text/javascript; charset=utf-8"}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>atelier API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, tryItOutEnabled: true,
  displayRequestDuration: true, docExpansion: "list", defaultModelsExpandDepth: 0,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
</script></body></html>
"""


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    from swagger_ui_bundle import swagger_ui_path

    return (swagger_ui_path / name).read_bytes()


def install(app: Any) -> None:
    """Registers /openapi.json, /docs and its assets. The document is built on first request, once
    every route is registered."""

    @lru_cache(maxsize=1)
    def openapi() -> bytes:
        return orjson.dumps(document(app.router.routes, __version__))

    async def openapi_json(request: Request) -> Response:
        return raw_json(openapi())

    async def docs(request: Request) -> Response:
        return Response(200, PAGE.encode(), HTML)

    app.router.add("GET", "/openapi.json", openapi_json, Operation(
        "This OpenAPI 3.1 document", json_answer(200, "The document", {"type": "object"}), database=False,
        tags=("about",)))
    app.router.add("GET", "/docs", docs, Operation(
        "Interactive documentation (Swagger UI): try every request", Answer(200, "A page", "text/html",
                                                                           {"type": "string"}),
        database=False, tags=("about",)))
    for name, content_type in ASSETS.items():
        app.router.add("GET", f"/docs/{name}", _asset_handler(name, content_type), Operation(
            f"Swagger UI's {name}, for /docs", Answer(200, "The file (cached for a day)",
                                                      content_type.split(";")[0], {"type": "string"}),
            database=False, tags=("about",)))


def _asset_handler(name: str, content_type: str) -> Handler:
    async def serve(request: Request) -> Response:
        return Response(200, asset(name), content_type, [("cache-control", "public, max-age=86400")])

    return serve
