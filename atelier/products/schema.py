"""The products schema: the legacy tables as loaded, and `document`, the precomputed answers.

Every read endpoint is one primary-key (or position) lookup of `document`; the legacy tables are
kept for integrity checks (cart skus) and to rebuild the documents.
"""

from __future__ import annotations

import asyncpg

TABLES = """
CREATE TABLE {s}.product (
    id integer NOT NULL, name text NOT NULL, slogan text, description text, category text,
    default_price integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE {s}.feature (id integer NOT NULL, product_id integer NOT NULL, feature text NOT NULL, value text);
CREATE TABLE {s}.style (
    id integer NOT NULL, product_id integer NOT NULL, name text NOT NULL, sale_price integer,
    original_price integer NOT NULL, default_style boolean NOT NULL);
CREATE TABLE {s}.photo (id integer NOT NULL, style_id integer NOT NULL, url text, thumbnail_url text);
CREATE TABLE {s}.sku (id integer NOT NULL, style_id integer NOT NULL, size text, quantity integer);
CREATE TABLE {s}.related (id integer NOT NULL, current_product_id integer NOT NULL, related_product_id integer NOT NULL);
-- Precomputed JSON, UTF-8 bytes. summary/detail lack the leading `{"id":N,"campus":"…",` (added per
-- request, so the campus stays configuration); `position` is the product's rank by id, for paging.
CREATE TABLE {s}.document (
    product_id integer NOT NULL, position integer NOT NULL,
    summary bytea NOT NULL, detail bytea NOT NULL, styles bytea NOT NULL, related bytea NOT NULL);
"""

# Read while building the documents: each product's rows by (parent, id).
CHILD_INDEXES = """
CREATE INDEX ON {s}.feature (product_id, id);
CREATE INDEX ON {s}.style (product_id, id);
CREATE INDEX ON {s}.photo (style_id, id);
CREATE INDEX ON {s}.sku (style_id, id);
CREATE INDEX ON {s}.related (current_product_id, id);
"""

INDEXES = """
ALTER TABLE {s}.product ADD PRIMARY KEY (id);
ALTER TABLE {s}.style ADD PRIMARY KEY (id);
ALTER TABLE {s}.sku ADD PRIMARY KEY (id);
ALTER TABLE {s}.document ADD PRIMARY KEY (product_id);
CREATE UNIQUE INDEX ON {s}.document (position) INCLUDE (product_id);
"""
# feature, photo and related ids are unique by construction (the loader rejects duplicates) and
# are only read through their (parent, id) indexes (CHILD_INDEXES), so they carry no primary key.


async def create_tables(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(TABLES.replace("{s}", schema))


async def create_indexes(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(CHILD_INDEXES.replace("{s}", schema))
    await conn.execute(INDEXES.replace("{s}", schema))


def statements(ddl: str, schema: str) -> list[str]:
    """The statements of a DDL block, for running them on several connections at once."""
    return [q.strip() for q in ddl.replace("{s}", schema).split(";") if q.strip()]
