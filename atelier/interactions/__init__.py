"""Interactions: the write-heavy analytics endpoint. No legacy CSV: `atelier load` leaves it alone."""

from __future__ import annotations

from ..core.manifest import Service
from . import routes, schema

SERVICE = Service(
    name="interactions",
    router=routes.router,
    create_tables=schema.create_tables,
    create_indexes=schema.create_indexes,
)
