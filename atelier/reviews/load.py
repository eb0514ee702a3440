"""Loading the four reviews-side legacy files (legacy-csv.md) and precomputing the documents.

Rows are only parsed and checked in Python (core/loading/); everything aggregated (photo
arrays, the three orders, meta counts, characteristic totals) is built in SQL afterwards.
"""

from __future__ import annotations

from ..core.loading.context import LoadContext
from .documents import BUILD_DOCUMENTS_RANGE, BUILD_LISTING_RANGE, BUILD_META
from .tables import CHARACTERISTIC, CHARACTERISTIC_REVIEW, LEGACY, PHOTO, PRECOMPUTED, REVIEW


async def load(ctx: LoadContext) -> None:
    s = ctx.schema
    await ctx.load_concurrently([REVIEW.file_spec(), CHARACTERISTIC.file_spec()])  # their parents: products only
    await ctx.load_concurrently([CHARACTERISTIC_REVIEW.file_spec(), PHOTO.file_spec()])  # children of the two above
    await ctx.parallel_step("indexes and keys", [sql for t in LEGACY for sql in t.keys_and_indexes_sql(s)])
    await ctx.step("analyze", f"ANALYZE {REVIEW.at(s)}, {PHOTO.at(s)}, {CHARACTERISTIC.at(s)}")
    builds = ([BUILD_META.replace("{s}", s)] + await ctx.sliced(BUILD_DOCUMENTS_RANGE, REVIEW.at(s), "id")
              + await ctx.sliced(BUILD_LISTING_RANGE, REVIEW.at(s), "product_id"))
    await ctx.parallel_step("precompute meta, documents and listings", builds)
    await ctx.parallel_step("keys of the precomputed tables", [sql for t in PRECOMPUTED for sql in t.key_sql(s)])
    await ctx.step("id sequences", "; ".join(sql for t in LEGACY for sql in t.identity_restart_sql(s)))
    await ctx.step("analyze", f"ANALYZE {', '.join(t.at(s) for t in PRECOMPUTED)}")

