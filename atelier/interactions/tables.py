"""The interactions table: one row per accepted POST /interactions (analytics, append-only)."""

from __future__ import annotations

from ..core.tables import Column, Table

INTERACTION = Table("interactions", "interaction", (
    Column("id", "bigint GENERATED ALWAYS AS IDENTITY"),
    Column("element", "text NOT NULL"),
    Column("widget", "text NOT NULL"),
    Column("time", "timestamptz NOT NULL"),
    Column("received_at", "timestamptz NOT NULL DEFAULT now()"),
))

TABLES = (INTERACTION,)
