"""The interactions schema: one row per accepted POST /interactions (analytics, append-only)."""

from __future__ import annotations

import asyncpg

TABLES = """
CREATE TABLE {s}.interaction (
    id bigint GENERATED ALWAYS AS IDENTITY, element text NOT NULL, widget text NOT NULL,
    time timestamptz NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
"""

INDEXES = """
ALTER TABLE {s}.interaction ADD PRIMARY KEY (id);
"""

# One statement, so one round trip and its own transaction. The one-time filter turns
# synchronous_commit on for that transaction: whatever the server's setting, the statement
# returns only once its rows are on disk.
INSERT = ("INSERT INTO interactions.interaction (element, widget, time) "
          "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
          "WHERE set_config('synchronous_commit', 'on', true) = 'on'")


async def create_tables(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(TABLES.replace("{s}", schema))


async def create_indexes(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(INDEXES.replace("{s}", schema))
