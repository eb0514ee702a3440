"""Interactions: the write-heavy analytics endpoint. No legacy CSV: `atelier load` leaves it alone."""

from __future__ import annotations

from ..core.manifest import Service
from . import routes, tables

SERVICE = Service(
    name="interactions",
    router=routes.router,
    tables=tables.TABLES,
)
