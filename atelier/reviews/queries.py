"""The reviews endpoints' SQL. A meta read is one primary-key lookup of `reviews.meta`; a page is
one lookup of `reviews.listing` joined to the page's `reviews.review_document` rows. Each write is
one call of a PL/pgSQL function (`ROUTINES`): one short transaction that locks the product's meta
row first (so writers of one product take turns), changes the tables and refreshes the precomputed
rows it affects before committing.
"""

from __future__ import annotations

from ..core.app import App
from ..core.batching import KeyedReader
from ..core.db import Pool
from ..core.per_app import PerApp
from ..products.tables import PRODUCT
from .contract import NewReview
from .documents import REBUILD_ALL, REBUILD_META, RELIST, UNLIST, empty_meta
from .documents import meta as meta_document

# A page: the documents of the 1-based, inclusive positions first..last of the sort's ids, joined by
# commas (an index lookup of review_document per review on the page).
PAGE_OF = """(SELECT string_agg(d.document, ','::bytea ORDER BY u.n)
             FROM unnest(l.{sort}[{first}:{last}]) WITH ORDINALITY AS u(id, n)
             JOIN reviews.review_document d ON d.review_id = u.id)"""
PAGE = f"SELECT {PAGE_OF} FROM reviews.listing l WHERE l.product_id = $1"
PAGES = f"SELECT l.product_id, {PAGE_OF} FROM reviews.listing l WHERE l.product_id = ANY($1::int[])"
META = "SELECT document FROM reviews.meta WHERE product_id = $1"
METAS = "SELECT product_id, document FROM reviews.meta WHERE product_id = ANY($1::int[])"
MAX_PAGE_READERS = 256  # distinct (sort, first, last) windows batched per process; others query alone

# --- writes -----------------------------------------------------------------------------------------
# Each write is one call of a PL/pgSQL function: one round trip, one transaction, and no connection
# left idle in a transaction while the API process is busy. Inside, writers of one product take
# turns on its meta row; each statement sees the ones before it, so the refreshed rows are exact.
# `ROUTINES` is run by every migrate and load (CREATE OR REPLACE), on the live schema `reviews`.


def _bind(sql: str, review: str, product: str) -> str:
    """A documents.py statement on the live schema, for a function body."""
    return sql.replace("{s}", "reviews").replace("{review}", review).replace("{product}", product)


ROUTINES = f"""
-- helpful and report returned a boolean before they returned the review's product: a function's
-- return type cannot be replaced, so the old ones are dropped first.
DO $do$ BEGIN
    IF (SELECT prorettype FROM pg_proc WHERE oid = to_regprocedure('reviews.mark_helpful(integer)'))
       = 'boolean'::regtype THEN
        DROP FUNCTION reviews.mark_helpful(integer);
    END IF;
    IF (SELECT prorettype FROM pg_proc WHERE oid = to_regprocedure('reviews.report(integer)')) = 'boolean'::regtype THEN
        DROP FUNCTION reviews.report(integer);
    END IF;
END $do$;

-- Locks the product's meta row; creates it first (and returns true) when the product has none.
CREATE OR REPLACE FUNCTION reviews.lock_product(integer) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1 FROM reviews.meta WHERE product_id = $1 FOR UPDATE;
    IF FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO reviews.meta (product_id, document)
    SELECT $1, {meta_document("$1")} FROM (SELECT NULL AS ratings, NULL AS recommended, NULL AS characteristics) nothing
    ON CONFLICT (product_id) DO NOTHING;
    PERFORM 1 FROM reviews.meta WHERE product_id = $1 FOR UPDATE;
    RETURN true;
END $fn$;

-- The product of review $1, its meta row locked (and brought up to date when it had to be
-- created); NULL when there is no such review.
CREATE OR REPLACE FUNCTION reviews.lock_product_of(integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    the_product integer;
BEGIN
    SELECT product_id INTO the_product FROM reviews.review WHERE id = $1;
    IF FOUND AND reviews.lock_product(the_product) THEN
        {_bind(REBUILD_META, "$1", "the_product")};
    END IF;
    RETURN the_product;
END $fn$;

-- PUT /reviews/:id/helpful: the review's product; NULL when there is no such review.
CREATE OR REPLACE FUNCTION reviews.mark_helpful(integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    the_product integer := reviews.lock_product_of($1);
BEGIN
    IF the_product IS NOT NULL THEN
        UPDATE reviews.review SET helpfulness = helpfulness + 1 WHERE id = $1;
        {_bind(RELIST, "$1", "the_product")};
    END IF;
    RETURN the_product;
END $fn$;

-- PUT /reviews/:id/report: hides the review from lists (meta still counts it); the review's
-- product, NULL when there is no such review. Reporting twice changes nothing.
CREATE OR REPLACE FUNCTION reviews.report(integer) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    the_product integer := reviews.lock_product_of($1);
BEGIN
    IF the_product IS NOT NULL THEN
        UPDATE reviews.review SET reported = true WHERE id = $1 AND NOT reported;
        IF FOUND THEN
            {_bind(UNLIST, "$1", "the_product")};
        END IF;
    END IF;
    RETURN the_product;
END $fn$;

-- POST /reviews: ($1 product, $2 rating, $3 summary, $4 body, $5 recommend, $6 name, $7 email,
-- $8 photo urls, $9 characteristic ids, $10 their values). The new review's id, or NULL when the
-- product does not exist or a characteristic is not the product's.
CREATE OR REPLACE FUNCTION reviews.add_review(integer, integer, text, text, boolean, text, text, text[],
                                              integer[], integer[]) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    new_review integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {PRODUCT} WHERE id = $1)
       OR EXISTS (SELECT 1 FROM unnest($9) AS c(id)
                  WHERE NOT EXISTS (SELECT 1 FROM reviews.characteristic WHERE id = c.id AND product_id = $1)) THEN
        RETURN NULL;
    END IF;
    PERFORM reviews.lock_product($1);
    INSERT INTO reviews.review (product_id, rating, date, summary, body, recommend, reported, reviewer_name,
                                reviewer_email, response, helpfulness)
    VALUES ($1, $2, now(), $3, $4, $5, false, $6, $7, NULL, 0) RETURNING id INTO new_review;
    INSERT INTO reviews.photo (review_id, url)
    SELECT new_review, u.url FROM unnest($8) WITH ORDINALITY AS u(url, n) ORDER BY u.n;
    WITH ratings AS (
        INSERT INTO reviews.characteristic_review (characteristic_id, review_id, value)
        SELECT c.id, new_review, c.value FROM unnest($9, $10) AS c(id, value)
        RETURNING characteristic_id, value)
    INSERT INTO reviews.characteristic_total AS t (characteristic_id, total, ratings)
    SELECT characteristic_id, sum(value), count(*) FROM ratings GROUP BY characteristic_id
    ON CONFLICT (characteristic_id)
    DO UPDATE SET total = t.total + excluded.total, ratings = t.ratings + excluded.ratings;
    {_bind(REBUILD_ALL, "new_review", "$1")};
    RETURN new_review;
END $fn$;
"""

ADD_REVIEW = "SELECT reviews.add_review($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
MARK_HELPFUL = "SELECT reviews.mark_helpful($1)"
REPORT = "SELECT reviews.report($1)"


class _Readers:
    """This process's batching readers (concurrent reads of one kind share a query)."""

    def __init__(self, app: App) -> None:
        self.meta = KeyedReader(app.db(), METAS, META)
        self.pages: dict[tuple[str, int, int], KeyedReader] = {}


_READERS = PerApp(_Readers)


async def page(app: App, product_id: int, sort: str, first: int, last: int) -> bytes:
    """The JSON elements of positions first..last (1-based, inclusive) joined by commas."""
    pages = _READERS(app).pages
    key = (sort, first, last)
    reader = pages.get(key)
    if reader is None:
        window = {"sort": sort, "first": first, "last": last}  # validated integers and a known column
        if len(pages) >= MAX_PAGE_READERS:
            return await app.db().fetchval(PAGE.format(**window), product_id) or b""
        reader = pages[key] = KeyedReader(app.db(), PAGES.format(**window), PAGE.format(**window))
    return await reader.get(product_id) or b""


async def meta(app: App, product_id: int) -> bytes:
    return await _READERS(app).meta.get(product_id) or empty_meta(product_id)


async def add_review(pool: Pool, review: NewReview) -> int | None:
    """Stores a review; None when its product or one of its characteristics is not the product's."""
    async with pool.connection() as conn:  # a write: never retried
        review_id: int | None = await conn.fetchval(
            ADD_REVIEW, review.product_id, review.rating, review.summary, review.body, review.recommend, review.name,
            review.email, review.photos, list(review.characteristics), list(review.characteristics.values()))
    return review_id


async def mark_helpful(pool: Pool, review_id: int) -> int | None:
    """Adds one to the review's helpfulness; its product, None when there is no such review."""
    async with pool.connection() as conn:
        product_id: int | None = await conn.fetchval(MARK_HELPFUL, review_id)
    return product_id


async def report(pool: Pool, review_id: int) -> int | None:
    """Hides the review from lists (meta still counts it); its product, None when there is no such review."""
    async with pool.connection() as conn:
        product_id: int | None = await conn.fetchval(REPORT, review_id)
    return product_id
