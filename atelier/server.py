"""Building the application and serving it with Granian."""

from __future__ import annotations

import orjson

from . import __version__
from .core import dashboard, health, metrics
from .core.app import App
from .core.config import Settings
from .core.http import Request, Response, Router, raw_json, text_response
from .core.openapi import DOCS_PAGE, document
from .core.rsgi import RSGIApp
from .services import all_services


def create_app(settings: Settings | None = None) -> App:
    settings = settings or Settings.from_env()
    router = Router()
    for service in all_services():
        router.include(service.router)
    app = App(settings, router)
    openapi = orjson.dumps(document(router.routes, __version__))

    async def openapi_json(request: Request) -> Response:
        return raw_json(openapi)

    async def docs(request: Request) -> Response:
        response = text_response(DOCS_PAGE)
        response.content_type = "text/html; charset=utf-8"
        return response

    router.add("GET", "/openapi.json", openapi_json, "This OpenAPI document")
    router.add("GET", "/docs", docs, "Human-readable API documentation")
    health.install(app)  # /health, /health/live, /health/ready
    metrics.install(app)  # /metrics, /metrics.json and the per-request observer (ATELIER_METRICS=0: off)
    dashboard.install(app)  # /dashboard
    return app


def rsgi_app() -> RSGIApp:
    """Granian factory (`--factory`): one App per worker process."""
    return RSGIApp(create_app())


def asgi_app():  # type: ignore[no-untyped-def]
    from .core.asgi import ASGIApp

    return ASGIApp(create_app())


def serve(settings: Settings, interface: str = "rsgi") -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from .core.config import export

    export(settings)  # worker processes read their settings from the environment
    metrics.prepare_directory()  # exported to the workers as ATELIER_METRICS_DIR; removed at exit
    target = "atelier.server:rsgi_app" if interface == "rsgi" else "atelier.server:asgi_app"
    Server(
        target,
        address=settings.host,
        port=settings.port,
        workers=max(1, settings.workers),
        interface=Interfaces.RSGI if interface == "rsgi" else Interfaces.ASGI,
        loop=Loops.uvloop,
        factory=True,
        backlog=2048,
        log_access=False,
    ).serve()
