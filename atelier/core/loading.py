"""Streaming a legacy CSV file into PostgreSQL, row by row accounted for.

Each service describes its files as `FileSpec`s (columns with parsers, parent checks). `load_file`
reads the file as a stream of logical records (BOM, CRLF, camelCase headers, unterminated quotes
repaired where the intent is clear), parses and checks every row, and streams the good ones into
one binary COPY while it writes every bad one to the reject file with its line number, raw text
and reason. The counts it returns always add up: read = loaded + rejected. A child file can load
while its parent file is still loading in another process (`SharedIdSet`): the rows it cannot
decide yet are held back until it can, so the verdicts do not depend on the timing.
"""

from __future__ import annotations

import csv
import mmap
import pickle
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import asyncpg

INT_MAX = 2_147_483_647


class RowError(ValueError):
    """A row (or one of its fields) that cannot be loaded; the message is the reject reason."""


# --- field parsers: str -> value, raising RowError with a readable reason ------------------------

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


# --- id sets: which parents exist, which ids were seen -------------------------------------------

class IdSet:
    """A set of non-negative int ids: a bitmap below 2^27, a Python set above (junk ids)."""

    _BITMAP_LIMIT = 1 << 27
    complete = True  # an id not in the set never comes: children may reject its orphans at once

    def __init__(self) -> None:
        self._bits: bytearray | memoryview = bytearray(1 << 17)
        self._big: set[int] = set()
        self.count = 0

    def add(self, value: int) -> bool:
        """Adds; returns False when the id was there already."""
        if 0 <= value < self._BITMAP_LIMIT:
            byte, bit = value >> 3, 1 << (value & 7)
            if byte >= len(self._bits):
                self._bits.extend(bytes(max(byte + 1, 2 * len(self._bits)) - len(self._bits)))
            if self._bits[byte] & bit:
                return False
            self._bits[byte] |= bit
        else:
            if value in self._big:
                return False
            self._big.add(value)
        self.count += 1
        return True

    def __contains__(self, value: int) -> bool:
        if 0 <= value < self._BITMAP_LIMIT:
            byte = value >> 3
            return byte < len(self._bits) and bool(self._bits[byte] & (1 << (value & 7)))
        return value in self._big

    @classmethod
    async def from_query(cls, conn: asyncpg.Connection, query: str) -> IdSet:
        """The ids a one-column query returns. The database packs them into 64-bit words of the
        bitmap (one row per 64 ids, not one per id: the 11M sku ids of the full data set take
        about 2 s instead of 16 s through Python)."""
        ids = cls()
        words = await conn.fetch(f"SELECT id >> 6, bit_or(1::bigint << (id & 63)) FROM ({query}) q(id) "
                                 "WHERE id IS NOT NULL GROUP BY 1")
        bitmap_words = cls._BITMAP_LIMIT >> 6
        size = max([len(ids._bits)] + [8 * (word + 1) for word, _ in words if 0 <= word < bitmap_words])
        ids._bits = bits = bytearray(size)
        for word, value in words:
            if 0 <= word < bitmap_words:
                chunk = value.to_bytes(8, "little", signed=True)
                bits[8 * word:8 * word + 8] = chunk
                ids.count += int.from_bytes(chunk, "little").bit_count()
            else:  # ids below 0 or above the bitmap (junk): one by one
                for bit in range(64):
                    if value >> bit & 1:
                        ids.add(64 * word + bit)
        return ids


class SharedIdSet(IdSet):
    """The ids of a file that loaders in other processes check against while it is still loading.

    The bitmap is a file mapped into every process that unpickles the set, so a child file's
    loader sees each parent id the moment the parent's loader adds it, and checks its rows in
    step with the parent instead of after it. An id not there yet may still come: `complete`
    (a status byte) says when the parent file is loaded, and only then is absence final, so
    `load_file` holds such rows back until then. Ids above the bitmap (junk in practice) reach
    the readers with the completion.
    """

    _COMPLETE, _ABANDONED = 1, 2  # the status byte; 0 while the file is loading
    _BITMAP_BYTES = IdSet._BITMAP_LIMIT >> 3  # 16 MiB, sparse: only the pages of loaded ids take memory

    def __init__(self, path: Path) -> None:
        """Creates the file; other processes map it when they unpickle the set."""
        with open(path, "wb") as fh:
            fh.truncate(1 + self._BITMAP_BYTES)
        self._attach(path)

    def __getstate__(self) -> dict[str, Path]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Path]) -> None:
        self._attach(state["path"])

    def _attach(self, path: Path) -> None:
        self.path = path
        with open(path, "r+b") as fh:
            self._map = mmap.mmap(fh.fileno(), 1 + self._BITMAP_BYTES)
        self._bits = memoryview(self._map)[1:]  # byte 0 is the status
        self._big = set()
        self._complete = False
        self.count = 0

    @property
    def complete(self) -> bool:  # type: ignore[override]
        if not self._complete:
            status = self._map[0]
            if status == self._ABANDONED:
                raise RuntimeError(f"the load of {self.path.name} failed: its children cannot be checked")
            if status == self._COMPLETE:
                self._big |= pickle.loads(self._big_path().read_bytes())
                self._complete = True
        return self._complete

    def finish(self) -> None:
        """Publishes the set as complete: its file is loaded."""
        self._big_path().write_bytes(pickle.dumps(self._big))
        self._map[0] = self._COMPLETE
        self._complete = True

    def abandon(self) -> None:
        """Tells the readers that the file failed to load, so that none waits for it."""
        self._map[0] = self._ABANDONED

    def private_copy(self) -> IdSet:
        """A plain IdSet with the same ids, for use after the shared file is gone."""
        ids = IdSet()
        ids._bits = bytearray(bytes(self._bits).rstrip(b"\0"))
        ids._big = set(self._big)
        ids.count = self.count
        return ids

    def _big_path(self) -> Path:
        return self.path.with_name(self.path.name + ".big")


# --- file specs and reports ----------------------------------------------------------------------

@dataclass
class Column:
    name: str  # the database column, which is also the canonical legacy header name
    parse: Callable[[str], Any]
    parent: str | None = None  # "service.table" whose ids this value must be one of (orphan check)


@dataclass
class FileSpec:
    file: str
    table: str
    columns: list[Column]
    aliases: dict[str, str] = field(default_factory=dict)  # legacy header -> column, e.g. productId
    key: str | None = "id"  # unique id column: duplicates are rejected; its ids are collected
    repair_unterminated: bool = False  # a line with an odd number of quotes is closed, not joined

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


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


# --- reading legacy CSV --------------------------------------------------------------------------

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


# --- loading one file ----------------------------------------------------------------------------

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
                self.rejects.add(number, "invalid UTF-8", raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
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
