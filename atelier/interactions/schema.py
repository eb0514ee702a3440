"""The interactions schema: one row per accepted POST /interactions (analytics, append-only).

`time_text` is the `time` exactly as sent; `time` is the moment it names, where it is in one of the
forms front ends send (moments.py), else NULL.
"""

from __future__ import annotations

import asyncpg

VERSION = 2  # 2: time_text as sent, time nullable

TABLES = """
CREATE TABLE {s}.interaction (
    id bigint GENERATED ALWAYS AS IDENTITY, element text NOT NULL, widget text NOT NULL,
    time timestamptz, received_at timestamptz NOT NULL DEFAULT now(), time_text text NOT NULL);
"""

INDEXES = """
ALTER TABLE {s}.interaction ADD PRIMARY KEY (id);
"""

# Interactions are not loaded from files, so an older layout is brought up to date in place. Layout 1
# kept only the parsed moment: its rows get that moment's ISO text (one rewrite of the table).
UPGRADES = {
    1: """
ALTER TABLE interactions.interaction ADD COLUMN time_text text;
UPDATE interactions.interaction SET time_text = to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
ALTER TABLE interactions.interaction ALTER COLUMN time_text SET NOT NULL, ALTER COLUMN time DROP NOT NULL;
""",
}


async def create_tables(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(TABLES.replace("{s}", schema))


async def create_indexes(conn: asyncpg.Connection, schema: str) -> None:
    await conn.execute(INDEXES.replace("{s}", schema))
