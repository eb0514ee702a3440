"""Reading legacy CSV exactly: the header, and logical records from physical lines, quotes repaired.

This is the loader's exact path, the definition of what a line means: every line that the bulk
path (`scan.py`, `columns.py`) cannot vouch for is fed here, in line order, and gets the verdict
this code gives it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

_STARTS_RECORD = re.compile(r"^\s*-?\d+\s*,")
_BOM = "\ufeff"


def read_header(path: Path) -> tuple[list[str], int]:
    """The header's field names (stripped) and the byte offset where the data lines start (after
    a UTF-8 BOM and the header line, whatever its line ending). An empty file has no header."""
    with open(path, encoding="utf-8", newline="", errors="surrogateescape") as fh:
        first = fh.readline()
    bom = first.startswith(_BOM)
    first = first.removeprefix(_BOM)
    offset = len(first.encode("utf-8", "surrogateescape")) + (3 if bom else 0)
    if not first:
        return [], offset
    return [h.strip() for h in next(csv.reader([first.rstrip("\r\n")]), [])], offset


@dataclass
class Row:
    number: int  # the physical line its record starts on
    raw: str  # its text as in the file (lines joined with \n, without an added closing quote)
    fields: list[str]
    line: int  # the index of the line that completed it, in the block being read


@dataclass
class RecordSplitter:
    """Physical lines in (without their line endings), rows out, in line order.

    - a line with an odd number of double quotes either lacks its closing quote (the photos.csv
      defect: repaired by closing it when `repair` is set or the next line starts a new record)
      or opens a field that continues on the next line (joined);
    - `repaired` counts the repaired lines;
    - a record that Python's csv module leaves inside a quoted field (a quote in the middle of an
      unquoted field can open one) goes on with the next record, as one csv.reader over all the
      records reads them: the row then has the later record's line number and text.
    """

    repair: bool
    repaired: int = 0
    pending: tuple[int, str] | None = None  # a record whose quote is still open: line, text
    continued: list[str] = field(default_factory=list)  # record texts csv.reader is still inside

    MAX_JOIN = 50  # a field open for more lines than this is not a multi-line field: reject it

    @property
    def busy(self) -> bool:
        """True while the next line belongs to the exact path whatever it holds."""
        return self.pending is not None or bool(self.continued)

    def feed(self, number: int, line: str, index: int) -> list[Row]:
        """The rows that line `number` (at `index` in its block) completes."""
        rows: list[Row] = []
        if self.pending is not None:
            start, so_far = self.pending
            if self.repair or number - start > self.MAX_JOIN or _STARTS_RECORD.match(line) is not None:
                self.pending = None
                self.repaired += 1
                self._record(start, so_far, so_far + '"', index, rows)
            else:
                joined = so_far + "\n" + line
                if joined.count('"') % 2 == 0:
                    self.pending = None
                    self._record(start, joined, joined, index, rows)
                else:
                    self.pending = (start, joined)
                return rows
        if line.count('"') % 2 == 0:
            self._record(number, line, line, index, rows)
        elif self.repair:  # closed at once: with `repair` the next line always closes it
            self.repaired += 1
            self._record(number, line, line + '"', index, rows)
        else:
            self.pending = (number, line)
        return rows

    def finish(self, index: int) -> list[Row]:
        """The rows still open at the end of the file."""
        rows: list[Row] = []
        if self.pending is not None:
            start, so_far = self.pending
            self.pending = None
            self.repaired += 1
            self._record(start, so_far, so_far + '"', index, rows)
        if self.continued:
            rows.append(Row(*self._last, next(csv.reader(self.continued)), index))
            self.continued = []
        return rows

    def _record(self, number: int, raw: str, text: str, index: int, rows: list[Row]) -> None:
        texts = [*self.continued, text]
        parsed = list(csv.reader([*texts, "\x01"]))  # one row more unless csv is still inside a field
        self._last = (number, raw)
        if len(parsed) == 1:
            self.continued = texts
            return
        self.continued = []
        rows.append(Row(number, raw, parsed[0], index))
