"""The SQL of POST /interactions, written through the worker's group-commit batcher (batcher.py)."""

from __future__ import annotations

from datetime import datetime

from ..core.app import App
from ..core.per_app import PerApp
from .batcher import InsertBatcher

# One statement, so one round trip and its own transaction. The one-time filter turns
# synchronous_commit on for that transaction: whatever the server's setting, the statement
# returns only once its rows are on disk.
INSERT = ("INSERT INTO interactions.interaction (element, widget, time_text, time) "
          "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) "
          "WHERE set_config('synchronous_commit', 'on', true) = 'on'")
COLUMNS = 4


def _batcher(app: App) -> InsertBatcher:
    """One batcher per worker process, flushed when the worker stops."""
    batcher = InsertBatcher(app.writes(), INSERT, COLUMNS)
    app.on_stop.append(batcher.close)
    return batcher


_BATCHER = PerApp(_batcher)


async def add(app: App, element: str, widget: str, time: str, moment: datetime | None) -> None:
    """Returns once the row is committed (with the rows of the requests around it)."""
    await _BATCHER(app).add((element, widget, time, moment))
