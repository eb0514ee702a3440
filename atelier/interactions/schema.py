"""The interactions SQL (the table is declared in tables.py)."""

from __future__ import annotations

# One statement, so one round trip and its own transaction. The one-time filter turns
# synchronous_commit on for that transaction: whatever the server's setting, the statement
# returns only once its rows are on disk.
INSERT = ("INSERT INTO interactions.interaction (element, widget, time) "
          "SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) "
          "WHERE set_config('synchronous_commit', 'on', true) = 'on'")
