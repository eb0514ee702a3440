"""Loading the four reviews-side legacy files (legacy-csv.md) and precomputing the documents.

Rows are only parsed and checked in Python (core/loading/); everything aggregated (photo
arrays, the three orders, meta counts, characteristic totals) is built in SQL afterwards.
"""

from __future__ import annotations

from ..core.loading.context import LoadContext
from ..core.loading.parsers import (
    bool_true_false,
    epoch_ms,
    int_between,
    non_negative,
    nullable_text,
    positive_id,
    reference,
    text,
)
from ..core.loading.spec import Column, FileSpec
from .documents import BUILD_DOCUMENTS_RANGE, BUILD_LISTING_RANGE, BUILD_META
from .schema import DOCUMENT_INDEXES, INDEXES, SEQUENCES, statements

PRODUCT = "products.product"
REVIEW = "reviews.review"
CHARACTERISTIC = "reviews.characteristic"
one_to_five = int_between(1, 5)

FILES = [
    FileSpec("reviews.csv", "review", [
        Column("id", positive_id), Column("product_id", reference, parent=PRODUCT), Column("rating", one_to_five),
        Column("date", epoch_ms), Column("summary", nullable_text), Column("body", text),
        Column("recommend", bool_true_false), Column("reported", bool_true_false), Column("reviewer_name", text),
        Column("reviewer_email", nullable_text), Column("response", nullable_text),
        Column("helpfulness", non_negative)]),
    FileSpec("reviews_photos.csv", "photo", [
        Column("id", positive_id), Column("review_id", reference, parent=REVIEW), Column("url", nullable_text)]),
    FileSpec("characteristics.csv", "characteristic", [
        Column("id", positive_id), Column("product_id", reference, parent=PRODUCT), Column("name", text)]),
    FileSpec("characteristic_reviews.csv", "characteristic_review", [
        Column("id", positive_id), Column("characteristic_id", reference, parent=CHARACTERISTIC),
        Column("review_id", reference, parent=REVIEW), Column("value", one_to_five)]),
]


RANGES = 16  # id ranges of each precomputed table's build, spread over two connections


async def load(ctx: LoadContext) -> None:
    if PRODUCT not in ctx.ids and not await ctx.conn.fetchval("SELECT to_regclass('products.product') IS NOT NULL"):
        raise SystemExit("reviews: no products.product table to check product ids against: load products first")
    await ctx.parent_ids(PRODUCT, "SELECT id FROM products.product")
    reviews, photos, characteristics, characteristic_reviews = FILES
    await ctx.load_concurrently([reviews, characteristics])  # their parents: products only
    await ctx.load_concurrently([characteristic_reviews, photos])  # children of the two above
    s = ctx.schema
    await ctx.parallel_step("indexes and keys", statements(INDEXES, s))
    await ctx.step("analyze", f"ANALYZE {s}.review, {s}.photo, {s}.characteristic")
    builds = ([BUILD_META.replace("{s}", s)] + await _ranges(ctx, BUILD_DOCUMENTS_RANGE, "id")
              + await _ranges(ctx, BUILD_LISTING_RANGE, "product_id"))
    await ctx.parallel_step("precompute meta, documents and listings", builds)
    await ctx.parallel_step("keys of the precomputed tables", statements(DOCUMENT_INDEXES, s))
    await ctx.step("id sequences", SEQUENCES.replace("{s}", s))
    await ctx.step("analyze", f"ANALYZE {s}.characteristic_total, {s}.meta, {s}.listing, {s}.review_document")


async def _ranges(ctx: LoadContext, build: str, column: str) -> list[str]:
    """`build` statements over equal ranges [lo, hi) of the review table's `column`."""
    last = await ctx.conn.fetchval(f"SELECT max({column}) FROM {ctx.schema}.review") or 0
    step = last // RANGES + 1
    return [build.replace("{s}", ctx.schema).replace("{lo}", str(lo)).replace("{hi}", str(lo + step))
            for lo in range(0, last + 1, step)]
