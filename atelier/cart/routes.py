"""Cart endpoints: the cart of the session named by the `atelier_session` cookie (sessions.py)."""

from __future__ import annotations

from ..core.http import CREATED, HTTPError, Request, Response, Router, json_response
from . import contract, queries, sessions

router = Router()


@router.get("/cart", contract.GET)
async def get_cart(request: Request) -> Response:
    session = await sessions.resolve(request)
    rows = await queries.cart(request.app, session.id) if not session.is_new else []
    response = json_response([{"sku_id": sku_id, "count": count} for sku_id, count in rows])
    response.headers.extend(session.headers)
    return response


@router.post("/cart", contract.ADD)
async def add_to_cart(request: Request) -> Response:
    item = contract.ITEM.read(request)
    session = await sessions.resolve(request)
    if not await queries.add(request.app, session.id, item.sku_id):
        raise HTTPError(422, contract.INVALID_SKU)
    return Response(CREATED.status, CREATED.body, CREATED.content_type, session.headers)
