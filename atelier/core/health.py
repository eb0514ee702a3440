"""Health endpoints, for a balancer or an orchestrator to poll.

- `GET /health/live`: 200 while the process answers; nothing else is involved (a failing
  liveness probe means "restart me", which a database outage must not cause).
- `GET /health/ready`: 200 when this server should get traffic: the database answers and its
  read path is warm for this run of PostgreSQL (core/prewarm.py); else 503 with the reason,
  `database unavailable` or `warming`.
- `GET /health`: 200 when the database answers (503 otherwise), as it always was.
"""

from __future__ import annotations

from typing import Any

from . import prewarm
from .db import DatabaseUnavailable
from .http import Request, Response, raw_json

LIVE = b'{"status":"live"}'
READY = b'{"status":"ready"}'
WARMING = b'{"status":"warming"}'
UNAVAILABLE = b'{"status":"database unavailable"}'


async def live(request: Request) -> Response:
    return raw_json(LIVE)


async def ready(request: Request) -> Response:
    try:
        warm = await prewarm.is_current(request.app.db())
    except DatabaseUnavailable:
        return raw_json(UNAVAILABLE, 503)
    return raw_json(READY) if warm else raw_json(WARMING, 503)


async def health(request: Request) -> Response:
    await request.app.db().fetchval("SELECT 1")
    return raw_json(b'{"status":"ok"}')


def install(app: Any) -> None:
    app.router.add("GET", "/health", health, "Liveness and database reachability")
    app.router.add("GET", "/health/live", live, "200 while the process answers (no database involved)")
    app.router.add("GET", "/health/ready", ready,
                   "200 when the database answers and the read path is warm; 503 with the reason otherwise")
