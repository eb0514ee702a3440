"""The cart endpoints' part of the contract: the session cookie, the POST body and the answers
(api.md, "Cart")."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.bodies import JsonBody
from ..core.operations import Answer, Operation
from ..core.params import ID
from ..core.schemas import INTEGER, array, record
from ..core.values import Object
from . import sessions

COOKIE = sessions.COOKIE
INVALID_SKU = "Error: invalid sku_id provided"


@dataclass(frozen=True, slots=True)
class NewItem:
    sku_id: int


ITEM = JsonBody(Object(NewItem, {"sku_id": ID}), INVALID_SKU, example={"sku_id": 1})

SETS_SESSION = {"Set-Cookie": f"`{COOKIE}=<token>; Path=/; HttpOnly; SameSite=Lax` (SameSite and Secure are "
                              "settings), when the request came without a session the server issued, or with a "
                              "token signed by an older key"}
# The cookie is not a declared parameter: a browser sends it by itself (and /docs cannot set one).
SESSION_NOTE = (f"The cart is the session's, named by the `{COOKIE}` cookie; a request without a valid one gets a "
                "new session (and an empty cart).")

TAGS = ("cart",)
GET = Operation(
    "The session's cart: one entry per sku",
    Answer(200, "The active cart", "application/json", array(record(sku_id=INTEGER, count=INTEGER)),
           headers=SETS_SESSION),
    description=SESSION_NOTE, tags=TAGS)
ADD = Operation(
    "Add one of a sku to the session's cart",
    Answer(201, "Created", "text/plain", {"type": "string", "enum": ["Created"]}, "Created", SETS_SESSION),
    body=ITEM, tags=TAGS,
    description=SESSION_NOTE + ' An unknown sku is a 422 too; `sku_id` may be sent as a string of digits ("13").',
    links={"Cart": {"operationId": "get_cart", "description": "The sku is in the session's cart"}})
