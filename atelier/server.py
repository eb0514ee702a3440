"""Building the application and serving it with Granian."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core import dashboard, docs, health, metrics
from .core.app import App
from .core.config import Settings
from .core.http import Router
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

    health.install(app)  # /health, /health/live, /health/ready
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
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    from .core.config import export
    from .core.cors import CorsPolicy
    from .core.limits import default_max_connections, raise_open_file_limit

    try:
        CorsPolicy.from_setting(settings.cors_origins, settings.cors_max_age)  # refuse a bad list here, once
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    open_files = raise_open_file_limit()
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
        # HTTP/1.1 only: in `auto` mode Granian first reads bytes to tell HTTP/2 from HTTP/1 with no
        # timer, so a connection that never sends a byte is never closed (docs/edge.md). Browsers
        # speak HTTP/2 only over TLS, which a proxy in front of atelier terminates.
        http=HTTPModes.http1,
        # The header timeout also bounds an idle keep-alive connection: hyper runs it from the
        # connection's start and from the end of each answer until the next request's headers are in.
        http1_settings=HTTP1Settings(header_read_timeout=max(1, settings.header_timeout) * 1000),
        backlog=settings.backlog,
        backpressure=settings.max_connections or default_max_connections(open_files),
        respawn_failed_workers=True,  # a worker that dies is replaced; the others keep serving
        log_access=False,
    ).serve()
