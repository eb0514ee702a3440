"""Field parsers: str -> value, raising RowError with a readable reject reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

INT_MAX = 2_147_483_647


class RowError(ValueError):
    """A row (or one of its fields) that cannot be loaded; the message is the reject reason."""


def _int(raw: str) -> int:
    """Decimal digits with an optional sign and stray surrounding whitespace (legacy junk)."""
    try:
        value = int(raw)
    except ValueError:
        raise RowError(f"not an integer: {raw!r}") from None
    if "_" in raw or not raw.isascii():  # int() also takes `1_000` and non-ASCII digits
        raise RowError(f"not an integer: {raw!r}")
    return value


def positive_id(raw: str) -> int:
    value = _int(raw)
    if value < 1 or value > INT_MAX:
        raise RowError(f"id out of range: {raw!r}")
    return value


def reference(raw: str) -> int:
    """A foreign id; 0 and negative values are kept so the parent check can name them."""
    value = _int(raw)
    if value > INT_MAX or value < -INT_MAX:
        raise RowError(f"id out of range: {raw!r}")
    return value


class int_between:
    """An integer within low..high. A class, not a closure, so that specs pickle into loader processes."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, raw: str) -> int:
        value = _int(raw)
        if not self.low <= value <= self.high:
            raise RowError(f"{value} outside {self.low}..{self.high}")
        return value


non_negative = int_between(0, INT_MAX)


class nullable:
    """The bare word `null` (or an empty field) is None; anything else goes to `parse`."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self.parse = parse

    def __call__(self, raw: str) -> Any:
        if raw == "null" or raw == "" or raw.strip() == "null":
            return None
        return self.parse(raw)


def text(raw: str) -> str:
    return raw


def nullable_text(raw: str) -> str | None:
    return None if raw == "null" else raw


_TRUE_FALSE = {"true": True, "false": False}
_ONE_ZERO = {"1": True, "0": False}


def bool_true_false(raw: str) -> bool:
    value = _TRUE_FALSE.get(raw.strip())
    if value is None:
        raise RowError(f"not true/false: {raw!r}")
    return value


def bool_one_zero(raw: str) -> bool:
    value = _ONE_ZERO.get(raw.strip())
    if value is None:
        raise RowError(f"not 0/1: {raw!r}")
    return value


def epoch_ms(raw: str) -> datetime:
    """1 to 15 decimal digits, optionally negative. Checked with str methods rather than a regex
    (`isdecimal` is the regex's `\\d`): this runs once per row of every dated file."""
    s = raw.strip()
    digits = s[1:] if s[:1] == "-" else s
    if not (0 < len(digits) <= 15 and digits.isdecimal()):
        raise RowError(f"not an epoch-ms timestamp: {raw!r}")
    try:
        return datetime.fromtimestamp(int(s) / 1000, UTC)
    except (OverflowError, ValueError, OSError):
        raise RowError(f"timestamp out of range: {raw!r}") from None

