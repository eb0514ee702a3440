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
from .operations import Operation, json_answer

LIVE = b'{"status":"live"}'
READY = b'{"status":"ready"}'
# 503 bodies carry `error` like every other 503 of the API (one schema for them in /openapi.json)
WARMING = b'{"status":"warming","error":"the read path is being warmed"}'
UNAVAILABLE = b'{"status":"database unavailable","error":"database unavailable"}'


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


def _status(*values: str) -> dict[str, Any]:
    return {"type": "object", "required": ["status"], "properties": {"status": {"enum": list(values)}}}


TAGS = ("monitoring",)
HEALTH = Operation("Database reachability (503 while it is down)",
                   json_answer(200, "The database answers", _status("ok")), tags=TAGS)
LIVE_OPERATION = Operation("Liveness: 200 while the process answers (no database involved)",
                           json_answer(200, "The process answers", _status("live")), database=False, tags=TAGS)
READY_OPERATION = Operation(
    "Readiness: 200 when the database answers and the read path is warm",
    json_answer(200, "Ready for traffic", _status("ready")), tags=TAGS,
    description="503 (with `status` `warming` or `database unavailable` beside `error`) until then.")


def install(app: Any) -> None:
    app.router.add("GET", "/health", health, HEALTH)
    app.router.add("GET", "/health/live", live, LIVE_OPERATION)
    app.router.add("GET", "/health/ready", ready, READY_OPERATION)
