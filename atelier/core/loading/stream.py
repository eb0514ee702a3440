"""Loading one file: its rows parsed, checked and streamed into one COPY, or rejected."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from .ids import IdSet
from .legacy_csv import LegacyReader
from .parsers import RowError
from .rejects import Rejects
from .spec import Column, FileSpec


@dataclass
class FileReport:
    file: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    repaired: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None
    note: str = ""

    def line(self) -> str:
        extra = f"  repaired {self.repaired:,}" if self.repaired else ""
        return (f"{self.file:<28} read {self.read:>12,}  loaded {self.loaded:>12,}  rejected {self.rejected:>9,}"
                f"{extra}  {self.seconds:7.1f}s{('  ' + self.note) if self.note else ''}")


async def load_file(
    conn: asyncpg.Connection,
    schema: str,
    spec: FileSpec,
    path: Path,
    rejects_dir: Path | None,
    ids: dict[str, IdSet],
    ids_name: str,
) -> FileReport:
    """Streams `path` into `schema.spec.table` with one COPY. Collects this file's key ids into
    `ids[ids_name]` (for children's parent checks); reads parents' sets from `ids`."""
    started = time.monotonic()
    rows = _Rows(spec, path, Rejects(rejects_dir, spec.file), ids, ids_name)
    try:
        await conn.copy_records_to_table(spec.table, records=rows, columns=spec.header, schema_name=schema)
    finally:
        rows.rejects.close()
    report = FileReport(spec.file, read=rows.read, loaded=rows.loaded, rejected=rows.rejects.count,
                        repaired=rows.reader.repaired, rejects_path=rows.rejects.path)
    report.seconds = time.monotonic() - started
    return report


_Held = tuple[int, str, list[Any]]  # line number, raw text, parsed values of a row held back


class _Rows:
    """The rows of one file on their way to COPY: each parsed and checked, then loaded, rejected
    or, while a parent file is still loading in another process (SharedIdSet), held back.

    A row is held back when its parent id is not there yet, or when an earlier row with its key
    is held back (which of the two loads depends on that row's fate). Held rows are decided again
    in line order as the parents come, so every row gets the verdict a sequential load gives it.
    """

    SETTLE_EVERY = 100_000  # rows read between two looks at the held-back rows
    HOLD_LIMIT = 50_000  # held-back rows at which reading waits for the parents to catch up
    WAIT_SECONDS = 0.5

    def __init__(self, spec: FileSpec, path: Path, rejects: Rejects, ids: dict[str, IdSet], ids_name: str) -> None:
        self.spec = spec
        self.reader = LegacyReader(path, spec.repair_unterminated)
        self.rejects = rejects
        self.seen = ids.setdefault(ids_name, IdSet()) if spec.key else None
        self.key_index = spec.header.index(spec.key) if spec.key else -1
        self.parent_checks = [(i, c.name, c.parent, ids[c.parent]) for i, c in enumerate(spec.columns) if c.parent]
        self.parsers: list[tuple[Callable[[str], Any], int]] = []  # known once the header is read
        self.read = 0
        self.loaded = 0
        self.held: list[_Held] = []
        self.held_keys: set[Any] = set()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for number, raw, fields in self.reader.parsed():
            if not self.parsers:
                self.parsers = self._parsers()
            self.read += 1
            values = self._parse(number, raw, fields)
            if values is not None and self._decide(number, raw, values):
                yield tuple(values)
            if self.held and self.read % self.SETTLE_EVERY == 0:
                yield from self._settle()
            if len(self.held) >= self.HOLD_LIMIT:
                yield from self._catch_up()
        while self.held:
            self._wait_for_parents()
            yield from self._settle()

    def _parsers(self) -> list[tuple[Callable[[str], Any], int]]:
        """Each column's parser with the index of its field in this file's header order."""
        order = _column_order(self.reader.header, self.spec)
        return [(column.parse, order[i]) for i, column in enumerate(self.spec.columns)]

    def _parse(self, number: int, raw: str, fields: list[str]) -> list[Any] | None:
        """The row's values, or None when it is rejected for its own content."""
        expected = len(self.reader.header)
        if len(fields) != expected:
            reason = "empty line" if raw.strip() == "" else f"expected {expected} fields, found {len(fields)}"
            self.rejects.add(number, reason, raw)
            return None
        if "\x00" in raw:
            self.rejects.add(number, "NUL character", raw)
            return None
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                readable = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self.rejects.add(number, "invalid UTF-8", readable)
                return None
        try:
            return [parse(fields[j]) for parse, j in self.parsers]
        except RowError as exc:
            bad = _which_column(self.parsers, fields, self.spec.columns)
            self.rejects.add(number, f"{bad}: {exc}", raw)
            return None

    def _decide(self, number: int, raw: str, values: list[Any]) -> bool:
        """True when the row loads. Rejects an orphan (once its parent's ids are complete) or a
        duplicate key; holds the row back when that cannot be told yet."""
        for i, name, parent, parent_ids in self.parent_checks:
            value = values[i]
            if value not in parent_ids:
                if not parent_ids.complete:
                    return self._hold(number, raw, values)
                if value not in parent_ids:  # checked again: it may have come just before completion
                    self.rejects.add(number, f"{name} {value} references no {parent} row", raw)
                    return False
        if self.seen is not None:
            key = values[self.key_index]
            if key in self.held_keys:
                return self._hold(number, raw, values)
            if not self.seen.add(key):
                self.rejects.add(number, f"duplicate {self.spec.key} {key}", raw)
                return False
        self.loaded += 1
        return True

    def _hold(self, number: int, raw: str, values: list[Any]) -> bool:
        self.held.append((number, raw, values))
        if self.seen is not None:
            self.held_keys.add(values[self.key_index])
        return False

    def _settle(self) -> Iterator[tuple[Any, ...]]:
        """Decides the held-back rows again, in line order; those still undecided stay held."""
        held, self.held, self.held_keys = self.held, [], set()
        for number, raw, values in held:
            if self._decide(number, raw, values):
                yield tuple(values)

    def _catch_up(self) -> Iterator[tuple[Any, ...]]:
        """This file is far ahead of a parent: waits for the parent until half the held-back rows
        are decided (a look at them costs time, so not after every row the parent adds)."""
        while len(self.held) > self.HOLD_LIMIT // 2:
            time.sleep(self.WAIT_SECONDS)
            yield from self._settle()

    def _wait_for_parents(self) -> None:
        """Waits until every parent file is loaded (it is loading in another process)."""
        for _, _, _, parent_ids in self.parent_checks:
            while not parent_ids.complete:
                time.sleep(self.WAIT_SECONDS / 10)


def _column_order(header: list[str], spec: FileSpec) -> list[int]:
    names = [spec.aliases.get(h, h) for h in header]
    missing = [c.name for c in spec.columns if c.name not in names]
    if missing:
        raise ValueError(f"{spec.file}: header {header} lacks {missing}")
    return [names.index(c.name) for c in spec.columns]


def _which_column(parsers: list[tuple[Callable[[str], Any], int]], fields: list[str], columns: list[Column]) -> str:
    for (parse, j), column in zip(parsers, columns):
        try:
            parse(fields[j])
        except RowError:
            return column.name
    return "row"
