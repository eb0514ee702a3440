"""POST /interactions: validated, then stored through the worker's group-commit batcher."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..core.http import CREATED, HTTPError, Request, Response, Router
from .batcher import InsertBatcher
from .schema import INSERT

router = Router()

INVALID = "Error: Interaction body contains invalid entries"
MAX_ELEMENT = 1000
MAX_WIDGET = 200
MAX_TIME = 64


def parse(data: Any) -> tuple[str, str, datetime]:
    """(element, widget, time in UTC) from the body; anything else is a 422."""
    if not isinstance(data, dict):
        raise HTTPError(422, INVALID)
    element, widget, time = data.get("element"), data.get("widget"), data.get("time")
    if not (_text(element, MAX_ELEMENT) and _text(widget, MAX_WIDGET) and _text(time, MAX_TIME)):
        raise HTTPError(422, INVALID)
    try:
        moment = datetime.fromisoformat(time)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise HTTPError(422, INVALID) from None
    return element, widget, moment


def _text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= longest and not value.isspace() and "\x00" not in value


def _batcher(request: Request) -> InsertBatcher:
    """One batcher per worker process, flushed when the worker stops."""
    batcher = request.app.state.get("interactions.batcher")
    if batcher is None:
        batcher = request.app.state["interactions.batcher"] = InsertBatcher(request.app.writes(), INSERT, 3)
        request.app.on_stop.append(batcher.close)
    return batcher


@router.post("/interactions", "Record a shopper's interaction (stored before the 201)",
             body={"type": "object", "required": ["element", "widget", "time"],
                   "properties": {"element": {"type": "string"}, "widget": {"type": "string"},
                                  "time": {"type": "string", "format": "date-time"}}})
async def add_interaction(request: Request) -> Response:
    row = parse(request.json(INVALID))
    await _batcher(request).add(row)
    return CREATED
