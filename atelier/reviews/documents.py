"""SQL that precomputes every reviews answer as compact JSON text (key order as the contract).

One definition of each piece (a review's JSON, the sort orders, the meta counts, the exact
averages) serves both the bulk build after a load (`BUILD_*`) and the refresh of one review's and
one product's rows inside a write transaction (`UPSERT_DOCUMENT`, `REBUILD_ORDERS`, `UNLIST`,
`REBUILD_META`). A write touches one review: it rewrites that review's document and the product's
three id arrays, never the other reviews' JSON.
Objects are assembled by concatenation, as in products/documents.py.
"""

from __future__ import annotations

JSON_TEXT = "coalesce(to_json({0})::text, 'null')"


def j(expr: str) -> str:
    return JSON_TEXT.format(expr)


# Reviews as listed: not reported, with `day`, the stored day in UTC (dates are returned at
# midnight UTC and sorted by day).
LISTED = "SELECT *, (date AT TIME ZONE 'UTC')::date AS day FROM {s}.review WHERE NOT reported"

PHOTO = f"""'{{"id":' || p.id || ',"url":' || {j('p.url')} || '}}'"""


def element(photos: str) -> str:
    """One listed review `r` as a JSON object; `photos` is an SQL expression for its photo array."""
    return (f"""'{{"review_id":' || r.id || ',"rating":' || r.rating || ',"summary":' || {j('r.summary')}"""
            f"""|| ',"recommend":' || r.recommend::text || ',"response":' || {j('r.response')}"""
            f"""|| ',"body":' || {j('r.body')} || ',"date":"' || to_char(r.day, 'YYYY-MM-DD') || 'T00:00:00.000Z"'"""
            f"""|| ',"reviewer_name":' || {j('r.reviewer_name')} || ',"helpfulness":' || r.helpfulness"""
            f"""|| ',"photos":' || coalesce({photos}, '[]') || '}}'""")


# Meta counts over reviews (reported ones included, as legacy did).
COUNTS = ", ".join([f"count(*) FILTER (WHERE rating = {k}) AS rated_{k}" for k in range(1, 6)]
                   + ["count(*) FILTER (WHERE NOT recommend) AS recommend_false",
                      "count(*) FILTER (WHERE recommend) AS recommend_true"])


def _counts_object(pairs: list[tuple[str, str]]) -> str:
    """`{"key":"count",...}` with only the keys whose count is not zero."""
    cases = ", ".join(f"""CASE WHEN {column} > 0 THEN '"{key}":"' || {column} || '"' END""" for key, column in pairs)
    return f"'{{' || concat_ws(',', {cases}) || '}}'"


RATINGS = _counts_object([(str(k), f"rated_{k}") for k in range(1, 6)])
RECOMMENDED = _counts_object([("false", "recommend_false"), ("true", "recommend_true")])

# The average total/ratings as a string with 16 decimals, rounded half up, in exact integer
# arithmetic: q = round(average * 10^16) = (2 * total * 10^16 + ratings) div (2 * ratings).
SCALED_AVERAGE = "div(2 * t.total * 10000000000000000::numeric + t.ratings, 2 * t.ratings::numeric)"
AVERAGE = """CASE WHEN t.ratings > 0
    THEN '"' || div(a.q, 10000000000000000)::text || '.' || lpad(mod(a.q, 10000000000000000)::text, 16, '0') || '"'
    ELSE 'null' END"""
CHARACTERISTICS = f"""'{{' || string_agg({j('c.name')} || ':{{"id":' || c.id || ',"value":' || {AVERAGE} || '}}',
                                        ',' ORDER BY c.id) || '}}'"""
CHARACTERISTIC_ROWS = f"""{{s}}.characteristic c
    LEFT JOIN {{s}}.characteristic_total t ON t.characteristic_id = c.id
    LEFT JOIN LATERAL (SELECT {SCALED_AVERAGE} AS q WHERE t.ratings > 0) a ON true"""


def meta(product_id: str) -> str:
    """The meta document, from columns ratings, recommended and characteristics (NULL: none)."""
    return (f"""convert_to('{{"product_id":"' || {product_id} || '","ratings":' || coalesce(ratings, '{{}}')"""
            f"""|| ',"recommended":' || coalesce(recommended, '{{}}')"""
            f"""|| ',"characteristics":' || coalesce(characteristics, '{{}}') || '}}', 'UTF8')""")


def empty_meta(product_id: int) -> bytes:
    """The meta of a product without reviews or characteristics (no meta row)."""
    return b'{"product_id":"%d","ratings":{},"recommended":{},"characteristics":{}}' % product_id


# A listed review's photos, by photo id (through the photo (review_id) index).
REVIEW_PHOTOS = f"""(SELECT '[' || string_agg({PHOTO}, ',' ORDER BY p.id) || ']'
                    FROM {{s}}.photo p WHERE p.review_id = r.id)"""


def document(photos: str) -> str:
    """A listed review `r`'s JSON object as UTF-8 bytes (what a page concatenates)."""
    return f"convert_to({element(photos)}, 'UTF8')"


# The ids of the listed reviews `r` in the three orders of api.md.
ORDERS = """array_agg(r.id ORDER BY r.helpfulness DESC, r.day DESC, r.id) AS relevant,
            array_agg(r.id ORDER BY r.helpfulness DESC, r.id) AS helpful,
            array_agg(r.id ORDER BY r.day DESC, r.id DESC) AS newest"""


# --- bulk build after a load --------------------------------------------------------------------

# One multi-statement string: one transaction, so the temp tables last until its end.
BUILD_META = f"""
INSERT INTO {{s}}.characteristic_total (characteristic_id, total, ratings)
SELECT characteristic_id, sum(value), count(*) FROM {{s}}.characteristic_review GROUP BY characteristic_id;

CREATE TEMP TABLE product_counts ON COMMIT DROP AS
SELECT product_id, {RATINGS} AS ratings, {RECOMMENDED} AS recommended
FROM (SELECT product_id, {COUNTS} FROM {{s}}.review GROUP BY product_id) counts;

CREATE TEMP TABLE product_characteristics ON COMMIT DROP AS
SELECT c.product_id, {CHARACTERISTICS} AS characteristics FROM {CHARACTERISTIC_ROWS} GROUP BY c.product_id;

ANALYZE product_counts, product_characteristics;

INSERT INTO {{s}}.meta (product_id, document)
SELECT product_id, {meta('product_id')}
FROM (SELECT product_id FROM product_counts UNION SELECT product_id FROM product_characteristics) products
LEFT JOIN product_counts USING (product_id)
LEFT JOIN product_characteristics USING (product_id);
"""

# Reviews with id in [{lo}, {hi}): their photos grouped in one pass over the same id range of
# photo (joined by hash, not looked up review by review). Ranges run on several connections.
BUILD_DOCUMENTS_RANGE = f"""
INSERT INTO {{s}}.review_document (review_id, document)
SELECT r.id, {document('p.photos')}
FROM ({LISTED} AND id >= {{lo}} AND id < {{hi}}) r
LEFT JOIN (SELECT p.review_id, '[' || string_agg({PHOTO}, ',' ORDER BY p.id) || ']' AS photos
           FROM {{s}}.photo p WHERE p.review_id >= {{lo}} AND p.review_id < {{hi}} GROUP BY p.review_id) p
       ON p.review_id = r.id
"""

# Products with id in [{lo}, {hi}), reading the reviews in product order through the review
# (product_id) index (the table is nearly in that order).
BUILD_LISTING_RANGE = f"""
INSERT INTO {{s}}.listing (product_id, relevant, helpful, newest)
SELECT r.product_id, {ORDERS} FROM ({LISTED} AND product_id >= {{lo}} AND product_id < {{hi}}) r
GROUP BY r.product_id
"""

# --- inside a write transaction that holds the lock on the product's meta row -------------------
# Parameters: {review} and {product}, replaced by the statement's $n.

# The review's document after it changed (or was added); nothing when it is reported.
UPSERT_DOCUMENT = f"""INSERT INTO {{s}}.review_document (review_id, document)
SELECT r.id, {document(REVIEW_PHOTOS)} FROM ({LISTED} AND id = {{review}}) r
ON CONFLICT (review_id) DO UPDATE SET document = excluded.document"""

# The product's three orders, from its listed reviews (an empty listing when none is left).
REBUILD_ORDERS = f"""INSERT INTO {{s}}.listing (product_id, relevant, helpful, newest)
SELECT {{product}}, coalesce(relevant, '{{}}'), coalesce(helpful, '{{}}'), coalesce(newest, '{{}}')
FROM (SELECT {ORDERS} FROM ({LISTED} AND product_id = {{product}}) r) orders
ON CONFLICT (product_id) DO UPDATE SET relevant = excluded.relevant, helpful = excluded.helpful,
                                       newest = excluded.newest"""

# A reported review leaves the lists: its document and its id in the three orders.
UNLIST = """WITH document AS (DELETE FROM {s}.review_document WHERE review_id = {review})
UPDATE {s}.listing SET relevant = array_remove(relevant, {review}), helpful = array_remove(helpful, {review}),
                       newest = array_remove(newest, {review})
WHERE product_id = {product}"""

REBUILD_META = f"""UPDATE {{s}}.meta m SET document = {meta('m.product_id')}
FROM (SELECT {RATINGS} AS ratings, {RECOMMENDED} AS recommended
      FROM (SELECT {COUNTS} FROM {{s}}.review WHERE product_id = {{product}}) counts) counts,
     (SELECT {CHARACTERISTICS} AS characteristics FROM {CHARACTERISTIC_ROWS} WHERE c.product_id = {{product}})
     characteristics
WHERE m.product_id = {{product}}"""

# One statement each (one round trip); the CTEs and the main statement write different tables and
# all see the review as the transaction left it.
RELIST = f"WITH document AS ({UPSERT_DOCUMENT}) {REBUILD_ORDERS}"
REBUILD_ALL = f"WITH document AS ({UPSERT_DOCUMENT}), orders AS ({REBUILD_ORDERS}) {REBUILD_META}"
