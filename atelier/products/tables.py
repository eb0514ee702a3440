"""The products tables: the six legacy files as loaded, and `document`, the precomputed answers.

Every read endpoint is one primary-key (or position) lookup of `document`; the legacy tables are
kept for integrity checks (cart skus, review and question products) and to rebuild the documents.
Other services may read the tables in `EXPOSED`, by these names.
"""

from __future__ import annotations

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
from ..core.tables import Column, Index, Table

money = int_between(0, 2_147_483_647)  # whole dollars

PRODUCT = Table("products", "product", (
    Column("id", "integer NOT NULL", positive_id),
    Column("name", "text NOT NULL", text),
    Column("slogan", "text", nullable_text),
    Column("description", "text", nullable_text),
    Column("category", "text", nullable_text),
    Column("default_price", "integer NOT NULL", money),
    Column("created_at", "timestamptz NOT NULL DEFAULT now()"),
    Column("updated_at", "timestamptz NOT NULL DEFAULT now()"),
), file="product.csv")

# feature, photo and related ids are unique by construction (the loader rejects duplicates) and
# are only read through their (parent, id) indexes, so they carry no primary key. The (parent, id)
# indexes hand each product's rows over in order while the documents are built.
FEATURE = Table("products", "feature", (
    Column("id", "integer NOT NULL", positive_id),
    Column("product_id", "integer NOT NULL", reference, parent=PRODUCT),
    Column("feature", "text NOT NULL", text),
    Column("value", "text", nullable_text),
), file="features.csv", primary_key=False, indexes=(Index("product_id, id"),))

STYLE = Table("products", "style", (
    Column("id", "integer NOT NULL", positive_id),
    Column("product_id", "integer NOT NULL", reference, parent=PRODUCT, header="productId"),
    Column("name", "text NOT NULL", text),
    Column("sale_price", "integer", nullable(money)),
    Column("original_price", "integer NOT NULL", money),
    Column("default_style", "boolean NOT NULL", bool_one_zero),
), file="styles.csv", indexes=(Index("product_id, id"),))

PHOTO = Table("products", "photo", (
    Column("id", "integer NOT NULL", positive_id),
    Column("style_id", "integer NOT NULL", reference, parent=STYLE, header="styleId"),
    Column("url", "text", nullable_text),
    Column("thumbnail_url", "text", nullable_text),
), file="photos.csv", primary_key=False, indexes=(Index("style_id, id"),), repair_unterminated=True)

SKU = Table("products", "sku", (
    Column("id", "integer NOT NULL", positive_id),
    Column("style_id", "integer NOT NULL", reference, parent=STYLE, header="styleId"),
    Column("size", "text", nullable_text),
    Column("quantity", "integer", nullable(non_negative)),
), file="skus.csv", indexes=(Index("style_id, id"),))

RELATED = Table("products", "related", (
    Column("id", "integer NOT NULL", positive_id),
    Column("current_product_id", "integer NOT NULL", reference, parent=PRODUCT),
    Column("related_product_id", "integer NOT NULL", reference, parent=PRODUCT),
), file="related.csv", primary_key=False, indexes=(Index("current_product_id, id"),))

# Precomputed JSON, UTF-8 bytes. summary/detail lack the leading `{"id":N,"campus":"…",` (added per
# request, so the campus stays configuration); `position` is the product's rank by id, for paging.
DOCUMENT = Table("products", "document", (
    Column("product_id", "integer NOT NULL"),
    Column("position", "integer NOT NULL"),
    Column("summary", "bytea NOT NULL"),
    Column("detail", "bytea NOT NULL"),
    Column("styles", "bytea NOT NULL"),
    Column("related", "bytea NOT NULL"),
), key="product_id", indexes=(Index("position", unique=True, include="product_id"),))

LEGACY = (PRODUCT, FEATURE, STYLE, PHOTO, SKU, RELATED)
TABLES = (*LEGACY, DOCUMENT)
EXPOSED = (PRODUCT, SKU, DOCUMENT)  # reviews and Q&A check products, cart checks skus, `up` documents
