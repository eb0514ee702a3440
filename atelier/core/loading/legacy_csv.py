"""Reading legacy CSV: logical records, quotes repaired, with their line numbers."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

_STARTS_RECORD = re.compile(r"^\s*-?\d+\s*,")


class LegacyReader:
    """Logical records of a legacy CSV file with the physical line number each starts on.

    - a UTF-8 BOM and CRLF line endings are dropped;
    - a line with an odd number of double quotes either lacks its closing quote (the photos.csv
      defect: repaired by closing it when `repair` is set or the next line starts a new record)
      or opens a field that continues on the next line (joined);
    - `repaired` counts the repaired lines.
    """

    MAX_JOIN = 50  # a field open for more lines than this is not a multi-line field: reject it

    def __init__(self, path: Path, repair: bool) -> None:
        self.path = path
        self.repair = repair
        self.repaired = 0
        self.header: list[str] = []
        self.current = (0, "")  # the line number and raw text of the record being parsed

    def parsed(self) -> Iterator[tuple[int, str, list[str]]]:
        """(line number, raw text, fields), with unterminated records closed. Every logical record
        has balanced quotes when it reaches csv.reader, so the reader yields one row per record."""
        for fields in csv.reader(self._records()):
            number, raw = self.current
            yield number, raw, fields

    def _records(self) -> Iterator[str]:
        """The text of each logical record for csv.reader, its (first line number, raw text) in
        `current` meanwhile. One generator for it all: it runs once per line of every file."""
        with open(self.path, encoding="utf-8-sig", newline="", errors="surrogateescape") as fh:
            lines = iter(fh)
            first = next(lines, None)
            if first is None:
                return
            self.header = [h.strip() for h in next(csv.reader([first.rstrip("\r\n")]))]
            pending: tuple[int, str] | None = None
            number = 1
            for line in lines:
                number += 1
                if line[-1:] == "\n":
                    line = line[:-2] if line[-2:-1] == "\r" else line[:-1]
                elif line[-1:] == "\r":
                    line = line[:-1]
                if pending is not None:
                    start, text_so_far = pending
                    if self._closes_record(line, number - start):
                        yield self._closed(start, text_so_far)
                        pending = None
                    else:
                        joined = text_so_far + "\n" + line
                        if joined.count('"') % 2 == 0:
                            self.current = (start, joined)
                            yield joined
                            pending = None
                        else:
                            pending = (start, joined)
                        continue
                if line.count('"') % 2 == 0:
                    self.current = (number, line)
                    yield line
                else:
                    pending = (number, line)
            if pending is not None:
                yield self._closed(*pending)

    def _closes_record(self, next_line: str, span: int) -> bool:
        """Decides whether the open record ends before `next_line` (its quote was never closed)."""
        return self.repair or span > self.MAX_JOIN or _STARTS_RECORD.match(next_line) is not None

    def _closed(self, start: int, raw: str) -> str:
        """The record starting on line `start` whose quote is never closed, repaired: closed."""
        self.current = (start, raw)
        self.repaired += 1
        return raw + '"'

