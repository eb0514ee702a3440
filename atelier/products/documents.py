"""SQL that precomputes every products answer as compact JSON text (key order as the contract).

Objects are assembled by concatenation with `to_json(text)` for escaping, because PostgreSQL's
json_build_object prints ` : ` and jsonb reorders keys.
"""

JSON_TEXT = "coalesce(to_json({0})::text, 'null')"
MONEY = "({0}::text || '.00')"  # whole dollars -> "140.00"
ISO_MS = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""

NO_PHOTOS = '[{"thumbnail_url":null,"url":null}]'
NO_SKUS = '{"null":{"quantity":null,"size":null}}'


def j(expr: str) -> str:
    return JSON_TEXT.format(expr)


BUILD = f"""
CREATE TEMP TABLE style_photos ON COMMIT DROP AS
SELECT style_id, '[' || string_agg('{{"thumbnail_url":' || {j('thumbnail_url')} || ',"url":' || {j('url')} || '}}', ','
                                   ORDER BY id) || ']' AS photos
FROM {{s}}.photo GROUP BY style_id;

CREATE TEMP TABLE style_skus ON COMMIT DROP AS
SELECT style_id, '{{' || string_agg('"' || id || '":{{"quantity":' || coalesce(quantity::text, 'null')
                                    || ',"size":' || {j('size')} || '}}', ',' ORDER BY id) || '}}' AS skus
FROM {{s}}.sku GROUP BY style_id;

CREATE TEMP TABLE product_styles ON COMMIT DROP AS
SELECT s.product_id,
       string_agg('{{"style_id":' || s.id || ',"name":' || {j('s.name')}
                  || ',"original_price":' || to_json({MONEY.format('s.original_price')})::text
                  || ',"sale_price":' || coalesce(to_json({MONEY.format('s.sale_price')})::text, 'null')
                  || ',"default?":' || s.default_style::text
                  || ',"photos":' || coalesce(sp.photos, '{NO_PHOTOS}')
                  || ',"skus":' || coalesce(ss.skus, '{NO_SKUS}') || '}}', ',' ORDER BY s.id) AS styles
FROM {{s}}.style s
LEFT JOIN style_photos sp ON sp.style_id = s.id
LEFT JOIN style_skus ss ON ss.style_id = s.id
GROUP BY s.product_id;

CREATE TEMP TABLE product_features ON COMMIT DROP AS
SELECT product_id, '[' || string_agg('{{"feature":' || {j('feature')} || ',"value":' || {j('value')} || '}}', ','
                                     ORDER BY id) || ']' AS features
FROM {{s}}.feature GROUP BY product_id;

CREATE TEMP TABLE product_related ON COMMIT DROP AS
SELECT current_product_id AS product_id, '[' || string_agg(related_product_id::text, ',' ORDER BY id) || ']' AS related
FROM {{s}}.related GROUP BY current_product_id;

INSERT INTO {{s}}.document (product_id, position, summary, detail, styles, related)
SELECT p.id, row_number() OVER (ORDER BY p.id), convert_to(fields || '}}', 'UTF8'),
       convert_to(fields || ',"features":' || coalesce(f.features, '[]') || '}}', 'UTF8'),
       convert_to('{{"product_id":"' || p.id || '","results":[' || coalesce(ps.styles, '') || ']}}', 'UTF8'),
       convert_to(coalesce(r.related, '[]'), 'UTF8')
FROM (SELECT id, '"name":' || {j('name')} || ',"slogan":' || {j('slogan')} || ',"description":' || {j('description')}
             || ',"category":' || {j('category')} || ',"default_price":"' || default_price || '.00"'
             || ',"created_at":"' || {ISO_MS.format('created_at')} || '","updated_at":"' || {ISO_MS.format('updated_at')}
             || '"' AS fields
      FROM {{s}}.product) p
LEFT JOIN product_styles ps ON ps.product_id = p.id
LEFT JOIN product_features f ON f.product_id = p.id
LEFT JOIN product_related r ON r.product_id = p.id;
"""
