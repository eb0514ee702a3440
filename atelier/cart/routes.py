"""Cart endpoints: HTTP only. The cart of the session named by the `atelier_session` cookie."""

from __future__ import annotations

import re
import secrets

from ..core.http import CREATED, HTTPError, Request, Response, Router, json_response
from . import contract, queries

router = Router()

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # new tokens, and the legacy integer sessions


def _session(request: Request) -> tuple[str, list[tuple[str, str]]]:
    """The session token and the headers that set it when the request came without a valid one."""
    token = request.cookie(contract.COOKIE)
    if token is not None and _TOKEN.fullmatch(token):
        return token, []
    token = secrets.token_urlsafe(32)
    return token, [("set-cookie", f"{contract.COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax")]


@router.get("/cart", contract.GET)
async def get_cart(request: Request) -> Response:
    session, headers = _session(request)
    rows = await queries.cart(request.app, session) if not headers else []
    response = json_response([{"sku_id": sku_id, "count": count} for sku_id, count in rows])
    response.headers.extend(headers)
    return response


@router.post("/cart", contract.ADD)
async def add_to_cart(request: Request) -> Response:
    item = contract.ITEM.read(request)
    session, headers = _session(request)
    if not await queries.add(request.app, session, item.sku_id):
        raise HTTPError(422, contract.INVALID_SKU)
    return Response(CREATED.status, CREATED.body, CREATED.content_type, headers)
