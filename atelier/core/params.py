"""Parsing of ids and paging parameters: anything that is not what the contract says is a 422."""

from __future__ import annotations

from .http import HTTPError

PG_INT_MAX = 2_147_483_647  # ids are PostgreSQL `integer` columns


def parse_id(raw: str | None, message: str) -> int:
    """A positive integer that fits an `integer` column, written in plain decimal digits."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        raise HTTPError(422, message)
    value = int(raw)
    if value < 1 or value > PG_INT_MAX:
        raise HTTPError(422, message)
    return value


def parse_paging(query: dict[str, str], max_count: int) -> tuple[int, int, int]:
    """Returns (page, requested count, offset) with the count clamped to `max_count` for the query.

    Any positive integer is accepted for `count` (front ends send 9007199254740991 to mean
    "everything"); the echo keeps what was asked, the query reads at most `max_count` rows.
    """
    page = _positive(query.get("page"), 1, "page")
    count = _positive(query.get("count"), 5, "count")
    return page, count, (page - 1) * count


def _positive(raw: str | None, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 30:
        raise HTTPError(422, f"Error: invalid {name} provided")
    value = int(raw)
    if value < 1:
        raise HTTPError(422, f"Error: invalid {name} provided")
    return value
