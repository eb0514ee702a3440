"""Where the lines and fields of a block of CSV are, found in bulk (numpy), and which lines are plain.

A line is *plain* when every reader splits it the same way: Python's `csv` module (the exact
path), PostgreSQL's `COPY ... (FORMAT csv)` (which loads plain lines as they are) and this scan.
That holds when each double quote opens a field (it follows a comma or starts the line), closes
one (a comma or the end of the line follows), or is one of a doubled pair inside a quoted field,
and the number of quotes is even (so no field continues on the next line). A plain line must
also have exactly `width` fields (commas outside quotes + 1) and be shorter than Python's csv
field limit. Everything else (and any line holding a NUL byte) goes to the exact path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NUL, NEWLINE, QUOTE, COMMA = 0, 10, 34, 44
# Python's csv module raises on a field longer than 131,072 characters (it stops the load): such
# lines keep that behaviour by taking the exact path.
LONGEST_PLAIN_LINE = 100_000

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Lines:
    """The lines of a block (each ends with a newline byte, which `ends` points at)."""

    starts: Ints
    ends: Ints
    plain: Bools
    field_starts: Ints  # (plain lines, width): where each field of each plain line starts...
    field_ends: Ints  # ... and ends (exclusive; a quoted field's bounds include its quotes)

    def __len__(self) -> int:
        return len(self.ends)


def scan(data: bytes, width: int) -> Lines:
    """The lines of `data` (whole lines: it ends with a newline) split into `width` fields where
    plain. Linear in the bytes, with no Python loop: a few passes find the newlines, quotes and
    commas (about a tenth of the bytes), the rest works on those only."""
    buf = np.frombuffer(data, np.uint8)
    special = buf == NEWLINE
    special |= buf == QUOTE
    special |= buf == COMMA
    if b"\0" in data:
        special |= buf == NUL
    positions = np.flatnonzero(special)
    kinds = buf[positions]
    is_line = kinds == NEWLINE
    is_quote = kinds == QUOTE
    ends = positions[is_line]
    n = len(ends)
    line_of = np.cumsum(is_line) - is_line  # the line each of these bytes is on
    quotes_so_far = np.cumsum(is_quote)
    quotes_at_end = quotes_so_far[is_line]
    quotes_before_line = np.concatenate(([0], quotes_at_end[:-1]))
    rank = quotes_so_far - is_quote - quotes_before_line[line_of]  # quotes before it on its line
    starts = np.empty(n, np.int64)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    plain = (ends - starts < LONGEST_PLAIN_LINE) & ((quotes_at_end - quotes_before_line) & 1 == 0)
    plain[line_of[kinds == NUL]] = False
    at = positions[is_quote]
    if len(at):
        before = buf[at - 1]  # at index -1 (a block starting with a quote): the last byte, a newline
        after = buf[at + 1]  # a quote is never the block's last byte (that is a newline)
        opens_well = (at == 0) | (before == COMMA) | (before == QUOTE) | (before == NEWLINE)
        closes_well = (after == COMMA) | (after == NEWLINE) | (after == QUOTE)
        misplaced = np.where(rank[is_quote] & 1 == 0, ~opens_well, ~closes_well)
        plain[line_of[is_quote][misplaced]] = False
    separator = (kinds == COMMA) & (rank & 1 == 0)
    separator_lines = line_of[separator]
    plain &= np.bincount(separator_lines, minlength=n) == width - 1
    separators = positions[separator][plain[separator_lines]].reshape(-1, width - 1)
    field_starts = np.empty((len(separators), width), np.int64)
    field_ends = np.empty((len(separators), width), np.int64)
    field_starts[:, 0] = starts[plain]
    field_starts[:, 1:] = separators + 1
    field_ends[:, :-1] = separators
    field_ends[:, -1] = ends[plain]
    return Lines(starts, ends, plain, field_starts, field_ends)
