"""Loading one file: read in blocks, checked in bulk where certain and row by row elsewhere,
streamed into one COPY, every row loaded or rejected.

For each block of lines (`blocks.py`): `scan.py` finds the plain lines and their fields,
`columns.py` checks each column of them at once, and the lines that pass go to COPY as they are
(PostgreSQL parses them; a date's epoch milliseconds are replaced by the same instant in ISO
form). Every other line (a repaired quote, stray whitespace, junk, a wrong number of fields...)
goes through the exact path (`legacy_csv.py` and the row parsers), with its line number and raw
text, and, if it loads, to COPY as CSV written from its parsed values. Both kinds then get their
verdicts together in line order (`verdicts.py`). So the rows loaded, the rejects (line, reason,
raw text) and the counts are those of reading every row with the exact path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from .blocks import BLOCK_BYTES, Block, read_blocks
from .columns import EpochColumn, kind_of, windows
from .ids import IdSet
from .legacy_csv import RecordSplitter, Row, read_header
from .parsers import RowError, nullable, nullable_text
from .rejects import Rejects
from .scan import scan
from .spec import Column, FileSpec
from .verdicts import Verdicts


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
    conns: asyncpg.Connection | list[asyncpg.Connection],
    schema: str,
    spec: FileSpec,
    path: Path,
    rejects_dir: Path | None,
    ids: dict[str, IdSet],
    ids_name: str,
    bulk: bool = True,
    block_bytes: int = BLOCK_BYTES,
) -> FileReport:
    """Streams `path` into `schema.spec.table`, an empty table of the load's staging schema: one
    COPY per connection (PostgreSQL parses a COPY on one core: two connections let it use two for
    one file, which helps when nothing else is loading); with one connection, a COPY FREEZE.
    Collects this file's key ids into `ids[ids_name]` (for children's parent checks); reads
    parents' sets from `ids`.
    `bulk` False reads every line with the exact path (the reference the bulk path must match)."""
    started = time.monotonic()
    rows = FileRows(spec, path, Rejects(rejects_dir, spec.file), ids, ids_name, bulk, block_bytes)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=4)
    connections = conns if isinstance(conns, list) else [conns]

    async def produce() -> None:
        try:
            chunks = iter(rows)
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:  # the loop keeps sending
                await queue.put(chunk)
        finally:
            for _ in connections:
                await queue.put(None)

    async def source() -> AsyncIterator[bytes]:
        while (chunk := await queue.get()) is not None:
            yield chunk

    async def copy(conn: asyncpg.Connection, freeze: bool) -> None:
        await conn.copy_to_table(spec.table, source=source(), columns=rows.copy_columns, schema_name=schema,
                                 format="csv", null="null", force_null=rows.force_null or None, freeze=freeze or None)

    try:
        if len(connections) == 1:
            # One COPY, in the transaction that empties the table, writes its rows frozen and its
            # pages all-visible: the first readers (index builds, documents) then neither set
            # hint bits on every tuple, dirtying (and, with data checksums, WAL-logging) every
            # page once more, nor look up the transaction's status row by row.
            async with connections[0].transaction():
                await connections[0].execute(f"TRUNCATE {schema}.{spec.table}")
                await asyncio.gather(produce(), copy(connections[0], freeze=True))
        else:
            await asyncio.gather(produce(), *(copy(conn, freeze=False) for conn in connections))
    finally:
        rows.rejects.close()
    report = FileReport(spec.file, read=rows.read, loaded=rows.verdicts.loaded, rejected=rows.rejects.count,
                        repaired=rows.splitter.repaired, rejects_path=rows.rejects.path)
    report.seconds = time.monotonic() - started
    return report


class FileRows:
    """The COPY text of one file's loading rows, block after block; rejects written on the way."""

    def __init__(self, spec: FileSpec, path: Path, rejects: Rejects, ids: dict[str, IdSet], ids_name: str,
                 bulk: bool = True, block_bytes: int = BLOCK_BYTES) -> None:
        self.spec = spec
        self.path = path
        self.block_bytes = block_bytes
        self.rejects = rejects
        self.header, self.offset = read_header(path)
        self.splitter = RecordSplitter(spec.repair_unterminated)
        self._rejected: list[tuple[int, str, str]] = []  # this block's, written in line order
        self.verdicts = Verdicts(spec, ids, ids_name)
        self.read = 0
        self.parsers: list[tuple[Callable[[str], Any], int]] = []  # known once the first row is read
        names = [spec.aliases.get(h, h) for h in self.header]
        in_file_order = sorted(names) == sorted(spec.header)  # then plain lines go to COPY as they are
        self.copy_columns = names if in_file_order else spec.header
        self.copy_order = [spec.header.index(name) for name in self.copy_columns]
        self.force_null = [c.name for c in spec.columns if c.parse is nullable_text or isinstance(c.parse, nullable)]
        by_name = {c.name: c for c in spec.columns}
        kinds = [kind_of(by_name[name].parse) if name in by_name else None for name in names]
        self.kinds = [k for k in kinds if k is not None] if bulk and in_file_order and None not in kinds else None
        # for fast rows, the fields of the key, the parents and the dates (in the file's order)
        self.key_field = names.index(spec.key) if spec.key in names else -1
        self.parent_fields = [names.index(c.name) if c.name in names else -1 for c in spec.columns if c.parent]
        self.date_fields = [j for j, kind in enumerate(self.kinds or []) if isinstance(kind, EpochColumn)]
        self.key_index = spec.header.index(spec.key) if spec.key else -1
        self.parent_indexes = [i for i, c in enumerate(spec.columns) if c.parent]

    def __iter__(self) -> Iterator[bytes]:
        for block in read_blocks(self.path, self.offset, self.block_bytes):
            text = b"".join(self._block(block))
            self._write_rejects()
            yield text
        text = b"".join(self._decide(_FastRows.none(), self._parse_rows(self.splitter.finish(-1))))
        self._write_rejects()
        yield text

    def _reject(self, number: int, reason: str, raw: str) -> None:
        self._rejected.append((number, reason, raw))

    def _write_rejects(self) -> None:
        self._rejected.sort(key=lambda reject: reject[0])
        for number, reason, raw in self._rejected:
            self.rejects.add(number, reason, raw)
        self._rejected.clear()

    # --- one block --------------------------------------------------------------------------

    def _block(self, block: Block) -> list[bytes]:
        if block.universal or self.kinds is None:
            lines = block.universal_lines() if block.universal else _lines(block.data)
            rows: list[Row] = []
            for i, line in enumerate(lines):
                rows += self.splitter.feed(block.first_line + i, line, i)
            return self._decide(_FastRows.none(), self._parse_rows(rows))
        return self._bulk_block(block)

    def _bulk_block(self, block: Block) -> list[bytes]:
        """A block of a file whose columns all have bulk checks."""
        assert self.kinds is not None
        data = block.data
        win = windows(data)
        lines = scan(data, len(self.kinds))
        plain = np.flatnonzero(lines.plain)
        passes = np.ones(len(plain), np.bool_)
        values: dict[int, np.ndarray] = {}
        for j, kind in enumerate(self.kinds):
            ok, column = kind.check(win, lines.field_starts[:, j], lines.field_ends[:, j])
            passes &= ok
            values[j] = column
        fast = np.zeros(len(lines), np.bool_)
        fast[plain[passes]] = True
        if not data.isascii():
            fast &= ~_invalid_utf8_lines(data, lines.ends)
        parsed = self._parse_rows(self._exact_rows(block, lines.starts, lines.ends, fast))
        fast_lines = np.flatnonzero(fast)
        at = np.searchsorted(plain, fast_lines)  # their rows in the scan's plain-line arrays
        rows = _FastRows(data, block.first_line, fast_lines, lines.starts[fast_lines], lines.ends[fast_lines],
                         {j: column[at] for j, column in values.items()},
                         lines.field_starts[at], lines.field_ends[at], self.date_fields)
        self.read += len(fast_lines)
        return self._decide(rows, parsed)

    def _exact_rows(self, block: Block, starts: np.ndarray, ends: np.ndarray, fast: np.ndarray) -> list[Row]:
        """The rows the exact path makes of the lines that are not fast, and of the lines after
        them while it is inside a record (those lines stop being fast)."""
        rows: list[Row] = []
        done = 0  # lines before this one are fast or fed to the exact path

        def feed(i: int) -> None:
            line = block.data[starts[i]:ends[i]].decode("utf-8", "surrogateescape")
            rows.extend(self.splitter.feed(block.first_line + i, line, i))
            fast[i] = False

        while self.splitter.busy and done < len(starts):  # a record open at the end of the last block
            feed(done)
            done += 1
        for i in np.flatnonzero(~fast).tolist():
            if i < done:
                continue
            feed(i)
            done = i + 1
            while self.splitter.busy and done < len(starts):
                feed(done)
                done += 1
        return rows

    # --- verdicts -----------------------------------------------------------------------------

    def _decide(self, fast: _FastRows, parsed: list[tuple[Row, list[Any]]]) -> list[bytes]:
        """Verdicts of a block's rows, fast and exact together in line order, then its COPY text."""
        lines = np.concatenate([fast.lines, np.array([row.line for row, _ in parsed], np.int64)])
        order = np.argsort(lines, kind="stable")

        def column(fast_values: np.ndarray, index: int) -> np.ndarray:
            exact = np.array([values[index] for _, values in parsed], np.int64)
            return np.concatenate([fast_values, exact])[order]

        no_values = np.zeros(len(fast.lines), np.int64)
        keys = column(fast.values.get(self.key_field, no_values), self.key_index) if self.spec.key else order
        parents = [column(fast.values.get(j, no_values), i) for j, i in zip(self.parent_fields, self.parent_indexes)]
        loads_in_order, reasons = self.verdicts.decide(keys, parents)
        loads = np.empty(len(order), np.bool_)
        loads[order] = loads_in_order
        count = len(fast.lines)
        for i, reason in reasons:
            candidate = int(order[i])
            if candidate < count:
                self._reject(fast.number(candidate), reason, fast.raw(candidate))
            else:
                row = parsed[candidate - count][0]
                self._reject(row.number, reason, row.raw)
        inserts = [(row.line, self._copy_text(values))
                   for (row, values), loaded in zip(parsed, loads[count:].tolist()) if loaded]
        return fast.copy_text(loads[:count], inserts)

    # --- the exact path -----------------------------------------------------------------------

    def _parse_rows(self, rows: list[Row]) -> list[tuple[Row, list[Any]]]:
        """Rows with their values; those rejected for their own content go to the rejects."""
        parsed = []
        for row in rows:
            self.read += 1
            values = self._parse(row.number, row.raw, row.fields)
            if values is not None:
                parsed.append((row, values))
        return parsed

    def _parse(self, number: int, raw: str, fields: list[str]) -> list[Any] | None:
        """The row's values, or None when it is rejected for its own content."""
        if not self.parsers:
            order = _column_order(self.header, self.spec)
            self.parsers = [(column.parse, order[i]) for i, column in enumerate(self.spec.columns)]
        expected = len(self.header)
        if len(fields) != expected:
            reason = "empty line" if raw.strip() == "" else f"expected {expected} fields, found {len(fields)}"
            self._reject(number, reason, raw)
            return None
        if "\x00" in raw:
            self._reject(number, "NUL character", raw)
            return None
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                readable = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self._reject(number, "invalid UTF-8", readable)
                return None
        try:
            return [parse(fields[j]) for parse, j in self.parsers]
        except RowError as exc:
            bad = _which_column(self.parsers, fields, self.spec.columns)
            self._reject(number, f"{bad}: {exc}", raw)
            return None

    def _copy_text(self, values: list[Any]) -> bytes:
        """A row of parsed values as a line of COPY's CSV, in the COPY's column order."""
        return (",".join(_copy_field(values[i]) for i in self.copy_order) + "\n").encode("utf-8")


def _copy_field(value: Any) -> str:
    """A parsed value as COPY (FORMAT csv, NULL 'null') reads it back to the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    raise TypeError(f"no COPY text for {value!r}")


class _FastRows:
    """The fast rows of a block: where they are, their key, parent and date values."""

    def __init__(self, data: bytes, first_line: int, lines: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 values: dict[int, np.ndarray], field_starts: np.ndarray, field_ends: np.ndarray,
                 date_fields: list[int]) -> None:
        self.data = data
        self.first_line = first_line
        self.lines = lines
        self.starts = starts
        self.ends = ends
        self.values = values
        self.field_starts = field_starts
        self.field_ends = field_ends
        self.date_fields = date_fields

    @classmethod
    def none(cls) -> _FastRows:
        """No fast rows (a block read by the exact path only)."""
        empty = np.zeros(0, np.int64)
        return cls(b"", 0, empty, empty, empty, {}, np.zeros((0, 0), np.int64), np.zeros((0, 0), np.int64), [])

    def number(self, i: int) -> int:
        return self.first_line + int(self.lines[i])

    def raw(self, i: int) -> str:
        return self.data[self.starts[i]:self.ends[i]].decode("utf-8")

    def copy_text(self, loads: np.ndarray, inserts: list[tuple[int, bytes]]) -> list[bytes]:
        """The COPY text of the rows that load, with `inserts` (line index, text) in line order."""
        if self.date_fields:
            texts = self.row_texts(loads)
            pieces = list(zip(self.lines[loads].tolist(), texts))
        else:
            pieces = self._runs(loads)
        if inserts:
            pieces = sorted(pieces + inserts, key=lambda piece: piece[0])
        return [text for _, text in pieces]

    def _runs(self, loads: np.ndarray) -> list[tuple[int, bytes]]:
        """Runs of consecutive loading lines, each one slice of the block."""
        lines = self.lines[loads]
        if not len(lines):
            return []
        starts, ends = self.starts[loads], self.ends[loads]
        breaks = np.flatnonzero(np.diff(lines) != 1) + 1
        firsts = np.concatenate([[0], breaks])
        lasts = np.concatenate([breaks - 1, [len(lines) - 1]])
        return [(line, self.data[start:end + 1]) for line, start, end in
                zip(lines[firsts].tolist(), starts[firsts].tolist(), ends[lasts].tolist())]

    def row_texts(self, loads: np.ndarray) -> list[bytes]:
        """The COPY text of the rows that load: each line with every epoch-ms date replaced by
        the same instant in ISO 8601 (UTC), which is what COPY reads into a timestamptz."""
        cuts: list[list[int]] = [self.starts[loads].tolist()]
        isos: list[list[bytes]] = []
        for j in self.date_fields:
            cuts += [self.field_starts[loads, j].tolist(), self.field_ends[loads, j].tolist()]
            millis = self.values[j][loads].astype("datetime64[ms]")
            isos.append(np.datetime_as_string(millis, unit="ms", timezone="UTC").astype("S24").tolist())
        cuts.append((self.ends[loads] + 1).tolist())
        data = self.data
        if len(self.date_fields) == 1:
            return [data[a:b] + iso + data[c:d] for a, b, iso, c, d in zip(cuts[0], cuts[1], isos[0], cuts[2], cuts[3])]
        texts = []
        for r in range(len(cuts[0])):
            parts = [data[cuts[0][r]:cuts[1][r]]]
            for k in range(len(isos)):
                parts += [isos[k][r], data[cuts[2 * k + 2][r]:cuts[2 * k + 3][r]]]
            texts.append(b"".join(parts))
        return texts


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").split("\n")[:-1]


def _invalid_utf8_lines(data: bytes, ends: np.ndarray) -> np.ndarray:
    """Lines that are not valid UTF-8 (all False when the block is)."""
    invalid = np.zeros(len(ends), np.bool_)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        high = np.flatnonzero(np.frombuffer(data, np.uint8) >= 0x80)
        invalid[np.searchsorted(ends, high)] = True
    return invalid


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
