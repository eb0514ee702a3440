"""POST /interactions: HTTP only. Stored through the worker's group-commit batcher (queries.py)."""

from __future__ import annotations

from ..core.http import CREATED, Request, Response, Router
from . import contract, queries
from .moments import moment

router = Router()


@router.post("/interactions", contract.ADD)
async def add_interaction(request: Request) -> Response:
    new = contract.INTERACTION.read(request)
    await queries.add(request.app, new.element, new.widget, new.time, moment(new.time))
    return CREATED
