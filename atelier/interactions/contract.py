"""POST /interactions' part of the contract: its body and answers (api.md, "Interactions")."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.bodies import JsonBody
from ..core.operations import CREATED, Operation
from ..core.values import Object, Text

INVALID = "Error: Interaction body contains invalid entries"


@dataclass(frozen=True, slots=True)
class NewInteraction:
    element: str
    widget: str
    time: str  # as sent: any non-blank text; moments.py reads the forms front ends send


INTERACTION = JsonBody(
    Object(NewInteraction, {"element": Text(1, 1000), "widget": Text(1, 200), "time": Text(1, 200)}),
    INVALID,
    example={"element": "img#main", "widget": "overview", "time": "2026-12-01T23:32:29.000Z"})

ADD = Operation(
    "Record a shopper's interaction", CREATED, body=INTERACTION, tags=("interactions",),
    description="`time` is any text, stored as sent; where it is an ISO date (quoted or not), a JavaScript "
                "`Date().toString()` or epoch milliseconds, its moment is stored too, for analytics. The 201 is "
                "sent once the row is committed (group commit per worker process).")
