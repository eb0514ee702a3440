"""Streaming a legacy CSV file into PostgreSQL, row by row accounted for.

Each service describes its files as `FileSpec`s (columns with parsers, parent checks). `load_file`
reads the file as a stream of logical records (BOM, CRLF, camelCase headers, unterminated quotes
repaired where the intent is clear), parses and checks every row, and streams the good ones into
one binary COPY while it writes every bad one to the reject file with its line number, raw text
and reason. The counts it returns always add up: read = loaded + rejected.
"""

from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

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


class int_between:  # noqa: N801  (used like a function: int_between(1, 5))
    """An integer within low..high. A class, not a closure, so that specs pickle into loader processes."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, raw: str) -> int:
        value = _int(raw)
        if not self.low <= value <= self.high:
            raise RowError(f"{value} outside {self.low}..{self.high}")
        return value


non_negative = int_between(0, INT_MAX)


class nullable:  # noqa: N801
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


_EPOCH_MS = re.compile(r"^-?\d{1,15}$")


def epoch_ms(raw: str) -> datetime:
    s = raw.strip()
    if not _EPOCH_MS.match(s):
        raise RowError(f"not an epoch-ms timestamp: {raw!r}")
    try:
        return datetime.fromtimestamp(int(s) / 1000, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        raise RowError(f"timestamp out of range: {raw!r}") from None


# --- id sets: which parents exist, which ids were seen -------------------------------------------

class IdSet:
    """A set of non-negative int ids: a bitmap below 2^27, a Python set above (junk ids)."""

    _BITMAP_LIMIT = 1 << 27

    def __init__(self) -> None:
        self._bits = bytearray(1 << 17)
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
    async def from_query(cls, conn: asyncpg.Connection, query: str) -> "IdSet":
        ids = cls()
        async with conn.transaction():
            async for record in conn.cursor(query, prefetch=50_000):
                ids.add(record[0])
        return ids


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
    """The reject file of one input file: `file,line,reason,raw` (CSV), created on the first reject."""

    def __init__(self, directory: Path | None, file: str) -> None:
        self.directory = directory
        self.file = file
        self.path: Path | None = None
        self._fh: TextIO | None = None
        self._writer: Any = None
        self.count = 0

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
        self._writer.writerow([self.file, line, reason, raw])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


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

    def records(self) -> Iterator[tuple[int, str]]:
        with open(self.path, "r", encoding="utf-8-sig", newline="", errors="surrogateescape") as fh:
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
                        yield start, text_so_far
                        pending = None
                    else:
                        joined = text_so_far + "\n" + line
                        if joined.count('"') % 2 == 0:
                            yield start, joined
                            pending = None
                        else:
                            pending = (start, joined)
                        continue
                if line.count('"') % 2 == 0:
                    yield number, line
                else:
                    pending = (number, line)
            if pending is not None:
                yield pending

    def _closes_record(self, next_line: str, span: int) -> bool:
        """Decides whether the open record ends before `next_line` (its quote was never closed)."""
        return self.repair or span > self.MAX_JOIN or _STARTS_RECORD.match(next_line) is not None

    def parsed(self) -> Iterator[tuple[int, str, list[str]]]:
        """(line number, raw text, fields), with unterminated records closed. Every logical record
        has balanced quotes when it reaches csv.reader, so the reader yields one row per record."""
        current: list[tuple[int, str]] = [(0, "")]

        def logical() -> Iterator[str]:
            for number, raw in self.records():
                current[0] = (number, raw)
                if raw.count('"') % 2:  # closed by _closes_record: repair the missing quote
                    self.repaired += 1
                    yield raw + '"'
                else:
                    yield raw

        for fields in csv.reader(logical()):
            number, raw = current[0]
            yield number, raw, fields


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
    report = FileReport(spec.file)
    rejects = Rejects(rejects_dir, spec.file)
    reader = LegacyReader(path, spec.repair_unterminated)
    seen = ids.setdefault(ids_name, IdSet()) if spec.key else None
    columns = spec.columns
    width = len(columns)
    key_index = spec.header.index(spec.key) if spec.key else -1
    parent_checks = [(i, c.name, ids[c.parent]) for i, c in enumerate(columns) if c.parent]
    parsers = [c.parse for c in columns]
    order: list[int] | None = None  # file column index for each spec column
    expected_fields = 0

    def rows() -> Iterator[tuple[Any, ...]]:
        nonlocal order, expected_fields
        for number, raw, fields in reader.parsed():
            if order is None:
                order = _column_order(reader.header, spec)
                expected_fields = len(reader.header)
            report.read += 1
            if len(fields) != expected_fields:
                reason = "empty line" if raw.strip() == "" else f"expected {expected_fields} fields, found {len(fields)}"
                rejects.add(number, reason, raw)
                continue
            if "\x00" in raw:
                rejects.add(number, "NUL character", raw)
                continue
            if not raw.isascii():
                try:
                    raw.encode("utf-8")
                except UnicodeEncodeError:
                    rejects.add(number, "invalid UTF-8", raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                    continue
            try:
                values = [parsers[i](fields[order[i]]) for i in range(width)]
            except RowError as exc:
                bad = _which_column(parsers, fields, order, columns)
                rejects.add(number, f"{bad}: {exc}", raw)
                continue
            orphan = None
            for i, name, parent_ids in parent_checks:
                if values[i] not in parent_ids:
                    orphan = f"{name} {values[i]} references no {columns[i].parent} row"
                    break
            if orphan is not None:
                rejects.add(number, orphan, raw)
                continue
            if seen is not None and not seen.add(values[key_index]):
                rejects.add(number, f"duplicate {spec.key} {values[key_index]}", raw)
                continue
            report.loaded += 1
            yield tuple(values)

    try:
        await conn.copy_records_to_table(spec.table, records=rows(), columns=spec.header, schema_name=schema)
    finally:
        rejects.close()
    report.rejected = rejects.count
    report.repaired = reader.repaired
    report.rejects_path = rejects.path
    report.seconds = time.monotonic() - started
    return report


def _column_order(header: list[str], spec: FileSpec) -> list[int]:
    names = [spec.aliases.get(h, h) for h in header]
    missing = [c.name for c in spec.columns if c.name not in names]
    if missing:
        raise ValueError(f"{spec.file}: header {header} lacks {missing}")
    return [names.index(c.name) for c in spec.columns]


def _which_column(parsers: list[Callable[[str], Any]], fields: list[str], order: list[int], columns: list[Column]) -> str:
    for i, parse in enumerate(parsers):
        try:
            parse(fields[order[i]])
        except RowError:
            return columns[i].name
    return "row"
