"""SQL that precomputes every reviews answer as compact JSON text (key order as the contract).

One definition of each piece (a review's JSON, the sort orders, the meta counts, the exact
averages) serves both the bulk build after a load (`BUILD_META`, `BUILD_LISTING_RANGE`) and the
rebuild of one product's rows inside a write transaction (`REBUILD_*`).
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


# The three orders of api.md, over rows (product_id, id, helpfulness, day, element).
LISTING = """array_agg(element ORDER BY helpfulness DESC, day DESC, id) AS relevant,
             array_agg(element ORDER BY helpfulness DESC, id) AS helpful,
             array_agg(element ORDER BY day DESC, id DESC) AS newest"""

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


def _elements(where: str) -> str:
    """Rows (product_id, id, helpfulness, day, element) of the listed reviews matching `where`,
    in product order. OFFSET 0 keeps the subquery whole, so each element is built once, not once
    per order."""
    return f"""(SELECT r.product_id, r.id, r.helpfulness, r.day, {element(REVIEW_PHOTOS)} AS element
  FROM ({LISTED} AND {where}) r ORDER BY r.product_id OFFSET 0) e"""


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

# Products with id in [lo, hi). Reads the reviews in product order through the review
# (product_id) index (the table is nearly in that order), so grouping needs no sort of the wide
# rows; ranges run on several connections at once.
BUILD_LISTING_RANGE = f"""
INSERT INTO {{s}}.listing (product_id, relevant, helpful, newest)
SELECT product_id, {LISTING} FROM {_elements('product_id >= {lo} AND product_id < {hi}')} GROUP BY product_id
"""

# --- one product ($1), inside a write transaction that holds the lock on its meta row ------------

REBUILD_LISTING = f"""INSERT INTO {{s}}.listing (product_id, relevant, helpful, newest)
SELECT $1, coalesce(relevant, '{{}}'), coalesce(helpful, '{{}}'), coalesce(newest, '{{}}')
FROM (SELECT {LISTING} FROM {_elements('product_id = $1')}) listing
ON CONFLICT (product_id) DO UPDATE SET relevant = excluded.relevant, helpful = excluded.helpful,
                                       newest = excluded.newest"""

REBUILD_META = f"""UPDATE {{s}}.meta m SET document = {meta('m.product_id')}
FROM (SELECT {RATINGS} AS ratings, {RECOMMENDED} AS recommended
      FROM (SELECT {COUNTS} FROM {{s}}.review WHERE product_id = $1) counts) counts,
     (SELECT {CHARACTERISTICS} AS characteristics FROM {CHARACTERISTIC_ROWS} WHERE c.product_id = $1) characteristics
WHERE m.product_id = $1"""

# Both in one statement: the CTE's upsert and the update see the same (already written) rows.
REBUILD_ALL = f"WITH listing_upsert AS ({REBUILD_LISTING}) {REBUILD_META}"
