"""The interactions table: one row per accepted POST /interactions (analytics, append-only).

`time_text` is the `time` exactly as sent; `time` is the moment it names, where it is in one of the
forms front ends send (moments.py), else NULL.
"""

from __future__ import annotations

from ..core.tables import Column, Table

VERSION = 2  # 2: time_text as sent, time nullable

INTERACTION = Table("interactions", "interaction", (
    Column("id", "bigint GENERATED ALWAYS AS IDENTITY"),
    Column("element", "text NOT NULL"),
    Column("widget", "text NOT NULL"),
    Column("time", "timestamptz"),
    Column("received_at", "timestamptz NOT NULL DEFAULT now()"),
    Column("time_text", "text NOT NULL"),
))

TABLES = (INTERACTION,)

# Interactions are not loaded from files, so an older layout is brought up to date in place. Layout 1
# kept only the parsed moment: its rows get that moment's ISO text (one rewrite of the table).
UPGRADES = {
    1: """
ALTER TABLE interactions.interaction ADD COLUMN time_text text;
UPDATE interactions.interaction SET time_text = to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
ALTER TABLE interactions.interaction ALTER COLUMN time_text SET NOT NULL, ALTER COLUMN time DROP NOT NULL;
""",
}
