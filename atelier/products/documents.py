"""SQL that precomputes every products answer as compact JSON text (key order as the contract).

Objects are assembled by concatenation with `to_json(text)` for escaping, because PostgreSQL's
json_build_object prints ` : ` and jsonb reorders keys. Each product's document is built from
index lookups of its own rows (correlated subqueries on the (parent, id) indexes), which avoids
sorting the multi-gigabyte child tables; `{lo}`/`{hi}` cut the work into ranges that run on
several connections at once.
"""

JSON_TEXT = "coalesce(to_json({0})::text, 'null')"
MONEY = "({0}::text || '.00')"  # whole dollars -> "140.00"
ISO_MS = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""

NO_PHOTOS = '[{"thumbnail_url":null,"url":null}]'
NO_SKUS = '{"null":{"quantity":null,"size":null}}'


def j(expr: str) -> str:
    return JSON_TEXT.format(expr)



PHOTOS = f"""(SELECT '[' || string_agg('{{"thumbnail_url":' || {j('ph.thumbnail_url')} || ',"url":' || {j('ph.url')}
                             || '}}', ',' ORDER BY ph.id) || ']'
         FROM {{s}}.photo ph WHERE ph.style_id = st.id)"""

SKUS = f"""(SELECT '{{' || string_agg('"' || k.id || '":{{"quantity":' || coalesce(k.quantity::text, 'null')
                             || ',"size":' || {j('k.size')} || '}}', ',' ORDER BY k.id) || '}}'
         FROM {{s}}.sku k WHERE k.style_id = st.id)"""

STYLES = f"""(SELECT string_agg('{{"style_id":' || st.id || ',"name":' || {j('st.name')}
                  || ',"original_price":' || to_json({MONEY.format('st.original_price')})::text
                  || ',"sale_price":' || coalesce(to_json({MONEY.format('st.sale_price')})::text, 'null')
                  || ',"default?":' || st.default_style::text
                  || ',"photos":' || coalesce({PHOTOS}, '{NO_PHOTOS}')
                  || ',"skus":' || coalesce({SKUS}, '{NO_SKUS}') || '}}', ',' ORDER BY st.id)
         FROM {{s}}.style st WHERE st.product_id = p.id)"""

FEATURES = f"""(SELECT '[' || string_agg('{{"feature":' || {j('f.feature')} || ',"value":' || {j('f.value')}
                                   || '}}', ',' ORDER BY f.id) || ']'
         FROM {{s}}.feature f WHERE f.product_id = p.id)"""

RELATED = """(SELECT '[' || string_agg(r.related_product_id::text, ',' ORDER BY r.id) || ']'
         FROM {s}.related r WHERE r.current_product_id = p.id)"""

FIELDS = (f"""'"name":' || {j('p.name')} || ',"slogan":' || {j('p.slogan')} || ',"description":' || {j('p.description')}
             || ',"category":' || {j('p.category')} || ',"default_price":"' || p.default_price || '.00"'
             || ',"created_at":"' || {ISO_MS.format('p.created_at')} || '","updated_at":"'
             || {ISO_MS.format('p.updated_at')} || '"'""")

# Products with id in [lo, hi); `before` is the number of products with a smaller id.
BUILD_RANGE = f"""
INSERT INTO {{s}}.document (product_id, position, summary, detail, styles, related)
SELECT p.id, {{before}} + row_number() OVER (ORDER BY p.id), convert_to(fields || '}}', 'UTF8'),
       convert_to(fields || ',"features":' || coalesce(features, '[]') || '}}', 'UTF8'),
       convert_to('{{"product_id":"' || p.id || '","results":[' || coalesce(styles, '') || ']}}', 'UTF8'),
       convert_to(coalesce(related, '[]'), 'UTF8')
FROM {{s}}.product p,
     LATERAL (SELECT {FIELDS} AS fields, {FEATURES} AS features, {STYLES} AS styles, {RELATED} AS related) d
WHERE p.id >= {{lo}} AND p.id < {{hi}}
"""
