"""Loading cart.csv (`id,user_session,product_id,active`): each row must name an existing sku."""

from __future__ import annotations

from ..core.loading.context import LoadContext
from ..core.loading.ids import IdSet
from ..core.loading.parsers import bool_one_zero, non_negative, positive_id, reference
from ..core.loading.spec import Column, FileSpec
from .schema import INDEXES, SEQUENCES

SKU = "products.sku"


def legacy_session(raw: str) -> str:
    """A legacy integer session id, kept as the text a session cookie carries (`42`)."""
    return str(non_negative(raw))


FILES = [
    FileSpec("cart.csv", "cart", [
        Column("id", positive_id), Column("user_session", legacy_session),
        Column("sku_id", reference, parent=SKU), Column("active", bool_one_zero)],
        aliases={"product_id": "sku_id"}),
]


async def sku_ids(ctx: LoadContext) -> IdSet:
    """Sku ids from this run, else from the database (none when products was never loaded)."""
    if SKU not in ctx.ids and await ctx.conn.fetchval("SELECT to_regclass($1)", SKU) is None:
        ctx.ids[SKU] = IdSet()
    return await ctx.parent_ids(SKU, f"SELECT id FROM {SKU}")


async def load(ctx: LoadContext) -> None:
    await sku_ids(ctx)
    for spec in FILES:
        await ctx.load(spec)
    s = ctx.schema
    await ctx.step("indexes and keys", INDEXES.replace("{s}", s))
    await ctx.step("sequences", SEQUENCES.replace("{s}", s))
