"""Loading the six products-side legacy files (legacy-csv.md) and precomputing the documents."""

from __future__ import annotations

from ..core.loading.context import LoadContext
from .documents import BUILD_RANGE
from .tables import DOCUMENT, FEATURE, LEGACY, PHOTO, PRODUCT, RELATED, SKU, STYLE


async def load(ctx: LoadContext) -> None:
    s = ctx.schema
    await ctx.load(PRODUCT.file_spec())
    await ctx.load_concurrently([FEATURE.file_spec(), STYLE.file_spec(), RELATED.file_spec()])
    await ctx.load_concurrently([PHOTO.file_spec(), SKU.file_spec()])
    await ctx.parallel_step("child indexes", [sql for t in LEGACY for sql in t.index_sql(s)])
    await ctx.step("analyze", f"ANALYZE {', '.join(t.at(s) for t in LEGACY)}")
    await ctx.parallel_step("precompute documents", await _document_ranges(ctx))
    await ctx.parallel_step("keys and indexes",
                            [sql for t in LEGACY for sql in t.key_sql(s)] + DOCUMENT.keys_and_indexes_sql(s))
    await ctx.step("analyze documents", f"ANALYZE {DOCUMENT.at(s)}")


async def _document_ranges(ctx: LoadContext) -> list[str]:
    """BUILD_RANGE over slices of product ids; `before` is the number of products before a slice
    (their positions continue from it), [slo, shi] the ids of the slice's styles."""
    s = ctx.schema
    slices = await ctx.slices(PRODUCT.at(s), "id")
    if not slices:
        return []
    counts = await ctx.conn.fetchrow(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE id < {lo})" for lo, _ in slices) + f" FROM {PRODUCT.at(s)}")
    within = [f"FILTER (WHERE product_id >= {lo} AND product_id < {hi})" for lo, hi in slices]
    bounds = await ctx.conn.fetchrow(
        "SELECT " + ", ".join(f"min(id) {w}, max(id) {w}" for w in within) + f" FROM {STYLE.at(s)}")
    return [BUILD_RANGE.replace("{s}", s).replace("{lo}", str(lo)).replace("{hi}", str(hi))
            .replace("{before}", str(before)).replace("{slo}", str(bounds[2 * i] or 0))
            .replace("{shi}", str(bounds[2 * i + 1] or -1))
            for i, ((lo, hi), before) in enumerate(zip(slices, counts))]
