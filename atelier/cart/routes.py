"""Cart endpoints: the cart of the session named by the `atelier_session` cookie."""

from __future__ import annotations

from ..core.http import CREATED, HTTPError, Request, Response, Router, json_response
from ..core.params import PG_INT_MAX
from . import sessions

router = Router()

INVALID_SKU = "Error: invalid sku_id provided"

CART = ("SELECT sku_id, count(*)::int AS count FROM cart.cart WHERE user_session = $1 AND active "
        "GROUP BY sku_id ORDER BY sku_id")
ADD = ("INSERT INTO cart.cart (user_session, sku_id) SELECT $1, $2 "
       "WHERE EXISTS (SELECT 1 FROM products.sku WHERE id = $2)")


@router.get("/cart", "The session's cart: one entry per sku")
async def get_cart(request: Request) -> Response:
    session = await sessions.resolve(request)
    rows = await request.app.db().fetch(CART, session.id) if not session.is_new else []
    response = json_response([{"sku_id": r[0], "count": r[1]} for r in rows])
    response.headers.extend(session.headers)
    return response


@router.post("/cart", "Add one of a sku to the session's cart", body={"type": "object", "required": ["sku_id"]})
async def add_to_cart(request: Request) -> Response:
    data = request.json(INVALID_SKU)
    sku_id = data.get("sku_id") if isinstance(data, dict) else None
    if type(sku_id) is not int or not 1 <= sku_id <= PG_INT_MAX:
        raise HTTPError(422, INVALID_SKU)
    session = await sessions.resolve(request)
    async with request.app.writes().connection() as conn:
        status = await conn.execute(ADD, session.id, sku_id)
    if status != "INSERT 0 1":
        raise HTTPError(422, INVALID_SKU)
    return Response(CREATED.status, CREATED.body, CREATED.content_type, session.headers)
