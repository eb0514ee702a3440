"""Loading the six products-side legacy files (legacy-csv.md) and precomputing the documents."""

from __future__ import annotations

from ..core.loading.context import LoadContext
from ..core.loading.parsers import (
    bool_one_zero,
    int_between,
    non_negative,
    nullable,
    nullable_text,
    positive_id,
    reference,
    text,
)
from ..core.loading.spec import Column, FileSpec
from .documents import BUILD_RANGE
from .schema import CHILD_INDEXES, INDEXES, statements

PRODUCT = "products.product"
STYLE = "products.style"
money = int_between(0, 2_147_483_647)

FILES = [
    FileSpec("product.csv", "product", [
        Column("id", positive_id), Column("name", text), Column("slogan", nullable_text),
        Column("description", nullable_text), Column("category", nullable_text), Column("default_price", money)]),
    FileSpec("features.csv", "feature", [
        Column("id", positive_id), Column("product_id", reference, parent=PRODUCT),
        Column("feature", text), Column("value", nullable_text)]),
    FileSpec("styles.csv", "style", [
        Column("id", positive_id), Column("product_id", reference, parent=PRODUCT), Column("name", text),
        Column("sale_price", nullable(money)), Column("original_price", money),
        Column("default_style", bool_one_zero)], aliases={"productId": "product_id"}),
    FileSpec("photos.csv", "photo", [
        Column("id", positive_id), Column("style_id", reference, parent=STYLE),
        Column("url", nullable_text), Column("thumbnail_url", nullable_text)],
        aliases={"styleId": "style_id"}, repair_unterminated=True),
    FileSpec("skus.csv", "sku", [
        Column("id", positive_id), Column("style_id", reference, parent=STYLE),
        Column("size", nullable_text), Column("quantity", nullable(non_negative))], aliases={"styleId": "style_id"}),
    FileSpec("related.csv", "related", [
        Column("id", positive_id), Column("current_product_id", reference, parent=PRODUCT),
        Column("related_product_id", reference, parent=PRODUCT)]),
]


RANGES = 16  # product id ranges for building documents on two connections


async def load(ctx: LoadContext) -> None:
    by_file = {spec.file: spec for spec in FILES}
    await ctx.load(by_file["product.csv"])
    await ctx.load_concurrently([by_file["features.csv"], by_file["styles.csv"], by_file["related.csv"]])
    await ctx.load_concurrently([by_file["photos.csv"], by_file["skus.csv"]])
    s = ctx.schema
    await ctx.parallel_step("child indexes", statements(CHILD_INDEXES, s))
    await ctx.step("analyze", f"ANALYZE {s}.product, {s}.feature, {s}.style, {s}.photo, {s}.sku, {s}.related")
    await ctx.parallel_step("precompute documents", await _document_ranges(ctx))
    await ctx.parallel_step("keys and indexes", statements(INDEXES, s))
    await ctx.step("analyze documents", f"ANALYZE {s}.document")


async def _document_ranges(ctx: LoadContext) -> list[str]:
    """BUILD_RANGE statements over id ranges of about equal numbers of products."""
    s = ctx.schema
    bounds = await ctx.conn.fetch(
        f"SELECT min(id) AS lo, count(*) AS n FROM (SELECT id, ntile({RANGES}) OVER (ORDER BY id) AS t "
        f"FROM {s}.product) x GROUP BY t ORDER BY lo")
    statements, before = [], 0
    for i, row in enumerate(bounds):
        hi = bounds[i + 1]["lo"] if i + 1 < len(bounds) else 2**31
        statements.append(BUILD_RANGE.replace("{s}", s).replace("{lo}", str(row["lo"]))
                          .replace("{hi}", str(hi)).replace("{before}", str(before)))
        before += row["n"]
    return statements
