"""`/dashboard`: a page of live charts that polls `/metrics.json` (see dashboard.html and .js)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from .http import Request, Response
from .operations import Answer, Operation

HTML = "text/html; charset=utf-8"


@lru_cache(maxsize=1)
def page() -> bytes:
    """The page with its script inlined: one self-contained response, no CDN, no second request."""
    folder = resources.files("atelier.core")
    html = folder.joinpath("dashboard.html").read_text(encoding="utf-8")
    script = folder.joinpath("dashboard.js").read_text(encoding="utf-8")
    return html.replace("<!--DASHBOARD-SCRIPT-->", f"<script>\n{script}</script>").encode()


async def dashboard(request: Request) -> Response:
    return Response(200, page(), HTML, [("cache-control", "no-cache")])


def install(app: Any) -> None:
    app.router.add("GET", "/dashboard", dashboard, Operation(
        "Live charts of requests/s, latency and errors per route",
        Answer(200, "A self-contained page polling /metrics.json", "text/html", {"type": "string"}),
        database=False, tags=("monitoring",)))
