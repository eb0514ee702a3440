"""Loading cart.csv (`id,user_session,product_id,active`): each row must name an existing sku."""

from __future__ import annotations

from ..core.loading.context import LoadContext
from .tables import CART


async def load(ctx: LoadContext) -> None:
    s = ctx.schema
    await ctx.load(CART.file_spec())
    await ctx.step("indexes and keys", "; ".join(CART.keys_and_indexes_sql(s)))
    await ctx.step("sequences", "; ".join(CART.identity_restart_sql(s)))
