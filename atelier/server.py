"""Building the application and serving it with Granian."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import dashboard, docs, metrics
from .core.app import App
from .core.config import Settings
from .core.http import Request, Response, Router, raw_json
from .core.operations import Operation, json_answer
from .core.rsgi import RSGIApp
from .services import all_services

if TYPE_CHECKING:
    from .core.asgi import ASGIApp


def create_app(settings: Settings | None = None) -> App:
    settings = settings or Settings.from_env()
    router = Router()
    for service in all_services():
        router.include(service.router)
    app = App(settings, router)

    async def health(request: Request) -> Response:
        await request.app.db().fetchval("SELECT 1")
        return raw_json(b'{"status":"ok"}')

    router.add("GET", "/health", health, Operation(
        "Liveness and database reachability",
        json_answer(200, "The database answers", {"type": "object", "required": ["status"],
                                                   "properties": {"status": {"const": "ok"}}}),
        tags=("monitoring",)))
    docs.install(app)  # /openapi.json, /docs
    metrics.install(app)  # /metrics, /metrics.json and the per-request observer (ATELIER_METRICS=0: off)
    dashboard.install(app)  # /dashboard
    return app


def rsgi_app() -> RSGIApp:
    """Granian factory (`--factory`): one App per worker process."""
    return RSGIApp(create_app())


def asgi_app() -> ASGIApp:
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
