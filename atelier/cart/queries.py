"""The SQL of the cart endpoints: the session's active rows grouped by sku, and adding one unit of
a sku that exists (one statement, so one round trip)."""

from __future__ import annotations

from ..core.app import App
from ..products.tables import SKU

CART = ("SELECT sku_id, count(*)::int AS count FROM cart.cart WHERE user_session = $1 AND active "
        "GROUP BY sku_id ORDER BY sku_id")
ADD = ("INSERT INTO cart.cart (user_session, sku_id) SELECT $1, $2 "
       f"WHERE EXISTS (SELECT 1 FROM {SKU} WHERE id = $2)")


async def cart(app: App, session: str) -> list[tuple[int, int]]:
    """(sku id, count) of the session's active cart, by sku id."""
    return [(row[0], row[1]) for row in await app.db().fetch(CART, session)]


async def add(app: App, session: str, sku_id: int) -> bool:
    """Adds one of the sku to the session's cart; False when there is no such sku."""
    async with app.writes().connection() as conn:
        status = await conn.execute(ADD, session, sku_id)
    return status == "INSERT 0 1"
