"""Checking one column of many plain lines at once, with the semantics of its row-by-row parser.

Each kind accepts only fields whose value it is certain of, written the way PostgreSQL's COPY
reads them to the same value (plain digits, the bare word `null`, `0`/`1`, `true`/`false`); any
other field, valid or not (stray whitespace, a sign, quotes, `1_000`, non-ASCII digits...), sends
its line to the exact path, which decides it as it always has. A parser without a kind here
sends every line of its file to the exact path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .parsers import (
    INT_MAX,
    bool_one_zero,
    bool_true_false,
    epoch_ms,
    int_between,
    nullable,
    nullable_text,
    positive_id,
    reference,
    text,
)
from .scan import Bools, Ints

Bytes = npt.NDArray[np.uint8]
NO_VALUE = -1  # in a column's values: the field is null (or its value is not needed)
WINDOW = 16  # bytes of a field a check looks at: longer fields are never digits or words here


def windows(data: bytes) -> Bytes:
    """A (len(data), WINDOW) view of `data`: row i is the WINDOW bytes from offset i (newlines
    past the end). Gathering the rows at the fields' starts reads each field's first bytes in one
    step, without an index per byte."""
    buf = np.frombuffer(data + b"\n" * WINDOW, np.uint8)
    return np.lib.stride_tricks.as_strided(buf, shape=(len(data), WINDOW), strides=(1, 1), writeable=False)


def _digits(win: Bytes, starts: Ints, ends: Ints, longest: int) -> tuple[Bools, Ints]:
    """Fields of 1 to `longest` ASCII digits and nothing else, and their values."""
    length = ends - starts
    ok = (length >= 1) & (length <= longest)
    longest = int(min(longest, length.max(initial=0)))
    digits = win[starts, :longest] - np.uint8(48)  # bytes below '0' wrap around above 9
    inside = np.arange(longest) < length[:, None]
    ok &= np.all((digits <= 9) | ~inside, axis=1)
    values = np.zeros(len(starts), np.int64)
    for k in range(longest):
        values = np.where(inside[:, k], values * 10 + digits[:, k], values)
    return ok, values


def _word(win: Bytes, starts: Ints, ends: Ints, word: bytes) -> Bools:
    """Fields that are exactly `word`, unquoted."""
    expected = np.frombuffer(word, np.uint8)
    return (ends - starts == len(expected)) & np.all(win[starts, :len(expected)] == expected, axis=1)


@dataclass(frozen=True)
class IntColumn:
    """Integers low..high (only values >= 0 here); with `null_word` also the bare word `null`."""

    low: int
    high: int
    null_word: bool = False

    def check(self, win: Bytes, starts: Ints, ends: Ints) -> tuple[Bools, Ints]:
        ok, values = _digits(win, starts, ends, 10)
        ok &= (values >= max(self.low, 0)) & (values <= self.high)
        if self.null_word:
            null = _word(win, starts, ends, b"null")
            ok |= null
            values[null] = NO_VALUE
        return ok, values


@dataclass(frozen=True)
class TextColumn:
    """Any text. Without `null_word` (a `text` column) the bare word `null` is its own kind of
    text: the exact path keeps it, COPY would read it as NULL, so its line goes exact."""

    null_word: bool

    def check(self, win: Bytes, starts: Ints, ends: Ints) -> tuple[Bools, Ints]:
        ok = np.ones(len(starts), np.bool_) if self.null_word else ~_word(win, starts, ends, b"null")
        return ok, np.full(len(starts), NO_VALUE, np.int64)


@dataclass(frozen=True)
class WordsColumn:
    """A boolean written as one of two words (`0`/`1`, `true`/`false`), nothing around it."""

    words: tuple[bytes, bytes]

    def check(self, win: Bytes, starts: Ints, ends: Ints) -> tuple[Bools, Ints]:
        ok = _word(win, starts, ends, self.words[0]) | _word(win, starts, ends, self.words[1])
        return ok, np.full(len(starts), NO_VALUE, np.int64)


# `epoch_ms` computes float(ms) / 1000 and rounds to microseconds: exact (ms * 1000 us) for
# 0 <= ms < 2^32 * 1000 (year 2106), checked for every boundary and 2M random values. Beyond,
# and for negative values, its rounding is its own: those lines go exact.
EPOCH_MS_EXACT_BELOW = (1 << 32) * 1000


@dataclass(frozen=True)
class EpochColumn:
    """Epoch milliseconds, 1 to 13 digits, below EPOCH_MS_EXACT_BELOW; values are the ms."""

    def check(self, win: Bytes, starts: Ints, ends: Ints) -> tuple[Bools, Ints]:
        ok, values = _digits(win, starts, ends, 13)
        return ok & (values < EPOCH_MS_EXACT_BELOW), values


Kind = IntColumn | TextColumn | WordsColumn | EpochColumn


def kind_of(parse: Callable[[str], Any]) -> Kind | None:
    """The bulk check equivalent to a row-by-row parser, or None for a parser it does not know."""
    if parse is positive_id:
        return IntColumn(1, INT_MAX)
    if parse is reference:
        return IntColumn(0, INT_MAX)
    if isinstance(parse, int_between):
        return IntColumn(parse.low, parse.high)
    if isinstance(parse, nullable):
        inner = kind_of(parse.parse)
        return IntColumn(inner.low, inner.high, null_word=True) if isinstance(inner, IntColumn) else None
    if parse is text:
        return TextColumn(null_word=False)
    if parse is nullable_text:
        return TextColumn(null_word=True)
    if parse is bool_one_zero:
        return WordsColumn((b"0", b"1"))
    if parse is bool_true_false:
        return WordsColumn((b"true", b"false"))
    if parse is epoch_ms:
        return EpochColumn()
    return None
