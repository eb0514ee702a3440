"""The reject file of one input file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO


class Rejects:
    """The reject file of one input file: `file,line,reason,raw` (CSV), created on the first reject,
    in line order (rows held back for their parent are decided late: the file is sorted then)."""

    def __init__(self, directory: Path | None, file: str) -> None:
        self.directory = directory
        self.file = file
        self.path: Path | None = None
        self._fh: TextIO | None = None
        self._writer: Any = None
        self.count = 0
        self._last_line = 0
        self._in_order = True

    def add(self, line: int, reason: str, raw: str) -> None:
        self.count += 1
        if self.directory is None:
            return
        if self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.path = self.directory / f"{self.file}.rejects.csv"
            self._fh = open(self.path, "w", encoding="utf-8", newline="", errors="backslashreplace")
            self._writer = csv.writer(self._fh, lineterminator="\n")
            self._writer.writerow(["file", "line", "reason", "raw"])
        self._in_order = self._in_order and line > self._last_line
        self._last_line = line
        self._writer.writerow([self.file, line, reason, raw])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            if not self._in_order:
                self._sort_by_line()

    def _sort_by_line(self) -> None:
        assert self.path is not None
        with open(self.path, encoding="utf-8", newline="") as fh:
            header, *rows = csv.reader(fh)
        rows.sort(key=lambda row: int(row[1]))
        with open(self.path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

