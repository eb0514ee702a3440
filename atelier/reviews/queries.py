"""The reviews endpoints' SQL. Reads are one primary-key lookup of `reviews.listing` or
`reviews.meta`; each write is one short transaction that locks the product's meta row first (so
writers of one product take turns), changes the tables and rebuilds that product's precomputed
rows before committing.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from ..core.app import App
from ..core.batching import KeyedReader
from ..core.db import Pool
from .documents import REBUILD_ALL, REBUILD_LISTING, empty_meta
from .validate import NewReview

SORTS = ("relevant", "helpful", "newest")

# A page: the 1-based, inclusive positions first..last of the sort's array, joined by commas.
PAGE = "SELECT convert_to(array_to_string({sort}[{first}:{last}], ','), 'UTF8') FROM reviews.listing " \
       "WHERE product_id = $1"
PAGES = "SELECT product_id, convert_to(array_to_string({sort}[{first}:{last}], ','), 'UTF8') FROM reviews.listing " \
        "WHERE product_id = ANY($1::int[])"
META = "SELECT document FROM reviews.meta WHERE product_id = $1"
METAS = "SELECT product_id, document FROM reviews.meta WHERE product_id = ANY($1::int[])"
MAX_PAGE_READERS = 256  # distinct (sort, first, last) windows batched per process; others query alone

PRODUCT = """SELECT EXISTS (SELECT 1 FROM products.product WHERE id = $1),
                    ARRAY(SELECT id FROM reviews.characteristic WHERE product_id = $1)"""

LOCK = "SELECT product_id FROM reviews.meta WHERE product_id = $1 FOR UPDATE"
LOCK_OF_REVIEW = """SELECT product_id FROM reviews.meta
                    WHERE product_id = (SELECT product_id FROM reviews.review WHERE id = $1) FOR UPDATE"""
PRODUCT_OF_REVIEW = "SELECT product_id FROM reviews.review WHERE id = $1"
CREATE_META = """INSERT INTO reviews.meta (product_id, document) VALUES ($1, $2)
                 ON CONFLICT (product_id) DO NOTHING"""

INSERT_REVIEW = """
WITH review AS (
    INSERT INTO reviews.review (product_id, rating, date, summary, body, recommend, reported, reviewer_name,
                                reviewer_email, response, helpfulness)
    VALUES ($1, $2, now(), $3, $4, $5, false, $6, $7, NULL, 0) RETURNING id),
photos AS (
    INSERT INTO reviews.photo (review_id, url)
    SELECT review.id, u.url FROM review, unnest($8::text[]) WITH ORDINALITY AS u(url, n) ORDER BY u.n),
ratings AS (
    INSERT INTO reviews.characteristic_review (characteristic_id, review_id, value)
    SELECT c.id, review.id, c.value FROM review, unnest($9::integer[], $10::integer[]) AS c(id, value)
    RETURNING characteristic_id, value),
totals AS (
    INSERT INTO reviews.characteristic_total AS t (characteristic_id, total, ratings)
    SELECT characteristic_id, sum(value), count(*) FROM ratings GROUP BY characteristic_id
    ON CONFLICT (characteristic_id)
    DO UPDATE SET total = t.total + excluded.total, ratings = t.ratings + excluded.ratings)
SELECT id FROM review"""

HELPFUL = "UPDATE reviews.review SET helpfulness = helpfulness + 1 WHERE id = $1"
REPORT = "UPDATE reviews.review SET reported = true WHERE id = $1 AND NOT reported"

_REBUILD_ALL = REBUILD_ALL.replace("{s}", "reviews")
_REBUILD_LISTING = REBUILD_LISTING.replace("{s}", "reviews")


def _readers(app: App) -> dict[Any, KeyedReader]:
    """This process's batching readers (concurrent reads of one kind share a query)."""
    return app.state.setdefault("reviews.readers", {})


async def page(app: App, product_id: int, sort: str, first: int, last: int) -> bytes:
    """The JSON elements of positions first..last (1-based, inclusive) joined by commas."""
    readers = _readers(app)
    key = (sort, first, last)
    reader = readers.get(key)
    if reader is None:
        window = {"sort": sort, "first": first, "last": last}  # validated integers and a known column
        if len(readers) >= MAX_PAGE_READERS:
            return await app.db().fetchval(PAGE.format(**window), product_id) or b""
        reader = readers[key] = KeyedReader(app.db(), PAGES.format(**window), PAGE.format(**window))
    return await reader.get(product_id) or b""


async def meta(app: App, product_id: int) -> bytes:
    readers = _readers(app)
    reader = readers.get("meta")
    if reader is None:
        reader = readers["meta"] = KeyedReader(app.db(), METAS, META)
    return await reader.get(product_id) or empty_meta(product_id)


async def _lock_product(conn: asyncpg.Connection, product_id: int) -> bool:
    """Locks the product's meta row, creating it when missing; True when it was created."""
    if await conn.fetchval(LOCK, product_id) is not None:
        return False
    await conn.execute(CREATE_META, product_id, empty_meta(product_id))
    await conn.fetchval(LOCK, product_id)
    return True


async def add_review(pool: Pool, review: NewReview) -> int | None:
    """Stores a review; None when its product or one of its characteristics is not the product's."""
    exists, characteristics = await pool.fetchrow(PRODUCT, review.product_id)
    if not exists or not set(review.characteristics) <= set(characteristics):
        return None
    ids, values = list(review.characteristics), list(review.characteristics.values())
    async with pool.connection() as conn:
        async with conn.transaction():
            await _lock_product(conn, review.product_id)
            review_id = await conn.fetchval(INSERT_REVIEW, review.product_id, review.rating, review.summary,
                                            review.body, review.recommend, review.name, review.email, review.photos,
                                            ids, values)
            await conn.execute(_REBUILD_ALL, review.product_id)
    return review_id


async def _vote(pool: Pool, review_id: int, update: str) -> bool:
    async with pool.connection() as conn:
        async with conn.transaction():
            product_id = await conn.fetchval(LOCK_OF_REVIEW, review_id)
            created = False
            if product_id is None:  # no such review (or, never expected, no meta row yet)
                product_id = await conn.fetchval(PRODUCT_OF_REVIEW, review_id)
                if product_id is None:
                    return False
                created = await _lock_product(conn, product_id)
            changed = await conn.execute(update, review_id) != "UPDATE 0"
            if created:
                await conn.execute(_REBUILD_ALL, product_id)
            elif changed:
                await conn.execute(_REBUILD_LISTING, product_id)
    return True


async def mark_helpful(pool: Pool, review_id: int) -> bool:
    """Adds one to the review's helpfulness; False when there is no such review."""
    return await _vote(pool, review_id, HELPFUL)


async def report(pool: Pool, review_id: int) -> bool:
    """Hides the review from lists (meta still counts it); False when there is no such review."""
    return await _vote(pool, review_id, REPORT)
