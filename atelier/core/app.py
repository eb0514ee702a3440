"""The application: routes of every service, error handling, OpenAPI and the server adapters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .config import Settings
from .cors import CorsPolicy
from .db import DatabaseUnavailable, Pool
from .http import HTTPError, Request, Response, Router, json_response, text_response

log = logging.getLogger("atelier")

MAX_BODY = 1 << 20  # bytes; a larger request body is a 413

# Observers called after every request with (request, response, seconds); metrics plug in here.
Observer = Callable[[Request, Response, float], None]

# Called with (product_id, question_id or None) by every write before its 201/204 is sent: a cache in
# front of the API (an NGINX cache, see the cluster) drops that product's answers before the write is
# acknowledged, so no answer cached before it is served after it.
ChangeListener = Callable[[int, "int | None"], Awaitable[None]]


def database_unavailable() -> Response:
    """503 while the database cannot answer; the body names no internal detail."""
    response = json_response({"error": "database unavailable"}, 503)
    response.headers.append(("retry-after", "1"))
    return response


class App:
    def __init__(self, settings: Settings, router: Router) -> None:
        self.settings = settings
        self.router = router
        self.cors = CorsPolicy.from_setting(settings.cors_origins, settings.cors_max_age)
        self.pool: Pool | None = None  # reads
        self.write_pool: Pool | None = None  # writes: a commit waiting on the disk never holds up a read
        self.observers: list[Observer] = []
        self.state: dict[str, Any] = {}  # per-process objects services keep (readers, batchers)
        self.on_stop: list[Callable[[], Awaitable[None]]] = []  # run before the pool closes (flush batchers)
        self.change_listeners: list[ChangeListener] = []

    def start(self) -> None:
        """Called once per worker process with its event loop running or about to run."""
        if self.settings.database_url and self.pool is None:
            self.pool = Pool(self.settings.database_url, size=self.settings.pool_size)
            self.write_pool = Pool(self.settings.database_url, size=self.settings.write_pool_size)
            self._start_cluster_parts()

    def _start_cluster_parts(self) -> None:
        """`atelier cluster`'s parts of an API process: reads from a replica, purges of NGINX caches."""
        settings = self.settings
        assert settings.database_url and self.pool is not None
        if settings.replica_url:
            from .replica import ReplicaReads, ReplicaState

            state = ReplicaState(settings.database_url, settings.replica_url, settings.replica_name,
                                 settings.replica_max_lag, settings.replica_sync)
            self.pool = ReplicaReads(settings.replica_url, self.pool, state, size=settings.pool_size)
        if settings.cache_purge:
            from ..cluster.purger import NginxPurger

            purger = NginxPurger(settings.cache_purge, settings.cache_origins, settings.purge_timeout,
                                 settings.cache_fill_bound_ms / 1000)
            self.change_listeners.append(purger)
            self.on_stop.append(purger.close)

    async def stop(self) -> None:
        for hook in self.on_stop:
            try:
                await hook()
            except Exception:
                log.exception("error while stopping")
        for pool in (self.pool, self.write_pool):
            if pool is not None:
                await pool.close()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        route, params = self.router.match(request.method, request.path)
        if route is None:
            response = self._unrouted(request)
            request.route = "unmatched"
        else:
            request.params = params
            request.route = route.template
            try:
                response = await route.handler(request)
            except HTTPError as exc:
                response = exc.response()
            except DatabaseUnavailable as exc:  # the one place a database failure becomes a 503
                log.debug("503 on %s %s: %s", request.method, request.path, exc)
                response = database_unavailable()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.path)
                response = text_response("Internal Server Error", 500)
        if self.observers:
            elapsed = time.perf_counter() - started
            for observe in self.observers:
                observe(request, response, elapsed)
        return response

    def _unrouted(self, request: Request) -> Response:
        """A preflight (204 on any path: the request it announces gets its own answer), OPTIONS on a
        known path (204 with Allow), another method on a known path (405 with Allow), else 404."""
        headers = request.headers
        origin = headers.get("origin")
        if request.method == "OPTIONS" and origin is not None and headers.get("access-control-request-method"):
            extra = self.cors.preflight(origin, headers.get("access-control-request-headers"))
            return Response(204, b"", None, list(extra))
        allow = self.router.allow(request.path)
        if not allow:
            return json_response({"error": "not found"}, 404)
        if request.method == "OPTIONS":
            return Response(204, b"", None, [("allow", allow)])
        response = json_response({"error": "method not allowed"}, 405)
        response.headers.append(("allow", allow))
        return response

    def wire_headers(self, origin: str | None, response: Response) -> list[tuple[str, str]]:
        """Every header of `response` as sent to a client whose request came from `origin`."""
        if response.content_type is None:
            return [*response.headers, *self.cors.headers(origin)]
        return [("content-type", response.content_type), *response.headers, *self.cors.headers(origin)]

    async def changed(self, product_id: int, question_id: int | None = None) -> None:
        """A write changed the answers about `product_id` (and about `question_id`'s answers).
        Returns when every listener is done: call it after the commit, before acknowledging."""
        for listener in self.change_listeners:
            await listener(product_id, question_id)

    def db(self) -> Pool:
        """The pool of the read path."""
        if self.pool is None:
            raise HTTPError(503, "no database configured", as_json=True)
        return self.pool

    def writes(self) -> Pool:
        """The pool of the write endpoints (and of the reads that decide a write)."""
        if self.write_pool is None:
            raise HTTPError(503, "no database configured", as_json=True)
        return self.write_pool
