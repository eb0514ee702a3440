"""The bulk path of the loader decides exactly as the exact (row-by-row) path does.

In-process: each column kind accepts only fields its row parser reads to the same value; the
scan calls plain only lines that csv splits as it does. On a real PostgreSQL: a file holding every
oddity of legacy-csv.md (and some more) loads to the same rows, the same reject file byte for
byte and the same counts through the bulk path (blocks of 64 bytes and of 1 MiB) as through the
exact path alone.
"""

from __future__ import annotations

import asyncio
import csv
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pytest

from atelier.core.loading.columns import NO_VALUE, kind_of, windows
from atelier.core.loading.ids import IdSet
from atelier.core.loading.parsers import (
    RowError,
    bool_one_zero,
    bool_true_false,
    epoch_ms,
    int_between,
    non_negative,
    nullable,
    nullable_text,
    positive_id,
    reference,
    text,
)
from atelier.core.loading.scan import scan
from atelier.core.loading.spec import Column, FileSpec
from atelier.core.loading.stream import FileReport, load_file

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARSERS: list[Callable[[str], Any]] = [positive_id, reference, int_between(1, 5), non_negative, nullable(non_negative),
                                        text, nullable_text, bool_one_zero, bool_true_false, epoch_ms]
PIECES = ["0", "1", "5", "7", "9", "00", "12", "2147483647", "2147483648", "4294967295999", "4294967296000",
          "1596080481467", "999999999999999", " ", "-", "+", "_", "x", "null", "NULL", "true", "false", "TRUE",
          "\u0663", "\t", '"', "", "é"]


def test_column_kinds_accept_only_what_their_parser_reads_the_same() -> None:
    rng = random.Random(15)
    fields = ["".join(rng.choices(PIECES, k=rng.randint(1, 3))) for _ in range(20_000)] + PIECES
    fields = [f for f in fields if "," not in f and "\n" not in f]
    data = ("\n".join(fields) + "\n").encode()
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    win = windows(data)
    accepted = 0
    for parse in PARSERS:
        kind = kind_of(parse)
        assert kind is not None
        ok, values = kind.check(win, starts, ends)
        for raw, passes, value in zip(fields, ok.tolist(), values.tolist()):
            if not passes:
                continue
            accepted += 1
            try:
                parsed = parse(raw)
            except RowError:
                pytest.fail(f"{parse!r} rejects {raw!r}, which its bulk kind accepts")
            if parse is text or parse is nullable_text:  # COPY reads the bare word null as NULL
                assert parsed == (None if raw == "null" else raw), (parse, raw)
            elif isinstance(parsed, bool):
                assert parsed == (raw in ("1", "true")), (parse, raw)
            elif parsed is None:
                assert value == NO_VALUE, (parse, raw)
            elif isinstance(parsed, datetime):
                assert parsed == EPOCH + timedelta(milliseconds=value), raw
            else:
                assert parsed == value, (parse, raw)
        if parse is nullable_text:
            assert ok.all()
        if parse is text:
            assert not ok[fields.index("null")]  # COPY would read the bare word as NULL
    assert accepted > 10_000


def test_scan_calls_plain_only_the_lines_csv_splits_as_it_does() -> None:
    lines = ['1,"a",b', '1,"a,b",c', '1,"a""b",c', '"",x,y', '1,a"b,c', '1,"a"b,c', '1,"a,b', '1,2', '1,2,3,4',
             '1,"a""",""""', '1,"x"",y",z', "", '1,"a\x00",b']
    data = ("\n".join(lines) + "\n").encode()
    found = scan(data, 3)
    assert found.plain.tolist() == [True, True, True, True, False, False, False, False, False, True, True, False,
                                    False]
    for row, index in enumerate(np.flatnonzero(found.plain).tolist()):
        fields = [data[s:e].decode() for s, e in zip(found.field_starts[row].tolist(), found.field_ends[row].tolist())]
        unquoted = [f[1:-1].replace('""', '"') if f.startswith('"') else f for f in fields]
        assert unquoted == next(csv.reader([lines[index]])), lines[index]


def test_id_sets_in_bulk_are_id_sets() -> None:
    rng = random.Random(3)
    ids = IdSet()
    reference_set: set[int] = set()
    for _ in range(5):
        values = np.array(sorted({rng.choice([rng.randrange(1 << 24), rng.randrange(1 << 31), -rng.randrange(9)])
                                  for _ in range(3000)} - reference_set), np.int64)
        probe = np.array([rng.randrange(-10, 1 << 24) for _ in range(3000)] + values.tolist(), np.int64)
        assert ids.contains_many(probe).tolist() == [int(v) in reference_set for v in probe]
        ids.add_many(values)
        reference_set |= set(values.tolist())
        assert ids.count == len(reference_set)
        assert all(v in ids for v in values.tolist())


# --- the bulk path against the exact path, on a real PostgreSQL ----------------------------------

SPEC = FileSpec("things.csv", "thing", [
    Column("id", positive_id), Column("parent_id", reference, parent="p.parent"), Column("rating", int_between(1, 5)),
    Column("date", epoch_ms), Column("name", text), Column("note", nullable_text), Column("flag", bool_true_false),
    Column("bit", bool_one_zero), Column("count", nullable(non_negative))], aliases={"parentId": "parent_id"})
TABLE = """CREATE TABLE {s}.thing (id integer, parent_id integer, rating smallint, date timestamptz, name text,
           note text, flag boolean, bit boolean, count integer)"""
HEADER = b"id,parentId,name,rating,date,note,flag,bit,count"
LINES = [
    b'1,1,"one",5,1596080481467,"n",true,1,3',
    b'2,2,"two, with a comma",4,1596080481468,null,false,0,null',
    b'3,1,"a ""quote"" inside",3,1596080481469,"null",true,1,7',
    b'4,0,"orphan",1,1,"x",true,1,1',
    b'5,11,"orphan too",1,1,"x",true,1,1',
    b'6,1,null,2,2,"bare null in a text column",true,1,1',
    b'7,1,"null",2,3,quoted null in text,true,1,1',
    b'8,1,"spaces", 5,4,"x",true,1,1',
    b'9,1,"spaces",5 ,4,"x",true,1,1',
    b'10,1,"plus",+5,4,"x",true,1,"1"',
    b'11,1,"underscore",1_0,4,"x",true,1,1',
    b'12,1,"arabic digit",\xd9\xa3,4,"x",true,1,1',
    b'1,1,"duplicate",1,4,"x",true,1,1',
    b'13,1,"15-digit date",1,999999999999999,"x",true,1,1',
    b'14,1,"negative date",1,-86400000,"x",true,1,1',
    b'15,1,"first inexact date",1,4294967296000,"x",true,1,1',
    b'16,1,"bool",1,4,"x", true,1,1',
    b'17,1,"bool",1,4,"x",TRUE,1,1',
    b'18,1,"bit",1,4,"x",true,2,1',
    b'19,1,"empty count",1,4,"x",true,1,',
    b'20,1,"unterminated,1,4,"x",true,1,1',
    b'21,1,"multi',
    b'line",1,4,"x",true,1,1',
    b'22,1,ab"c,1,4,"x",true,1,1',
    b'23,1,"abc"def,1,4,"x",true,1,1',
    b'24,1,x"y,"z',
    b'25,1,"csv reads on into this line",1,4,"x",true,1,1',
    b'26,1,"nul \x00",1,4,"x",true,1,1',
    b'27,1,"bad utf-8 \xff",1,4,"x",true,1,1',
    b'28,1,"caf\xc3\xa9",1,4,"x",true,1,1',
    b'29,1,"lone\rreturn",1,4,"x",true,1,1',
    b'',
    b'30,1,"few"',
    b'31,1,"crlf",1,4,"x",true,1,1\r',
    b'32,3,"",1,0,"",false,0,0',
    b'33,1,"dup 32 next",1,4,"x",true,1,1',
    b'32,1,"duplicate across blocks",1,4,"x",true,1,1',
    b'2147483647,1,"largest id",1,4,"x",true,1,2147483647',
    b'2147483648,1,"too large",1,4,"x",true,1,1',
    b'0,1,"zero id",1,4,"x",true,1,1',
    b'34,1,"' + b"long " * 25_000 + b'",1,4,"x",true,1,1',
    b'35,1,"last line, no newline",1,4,"x",true,1,1',
]
CONTENT = b"\xef\xbb\xbf" + HEADER + b"\r\n" + b"\n".join(LINES)


async def _load(url: str, folder: Path, schema: str, bulk: bool, block_bytes: int) -> tuple[FileReport, list]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}; " + TABLE.replace("{s}", schema))
        parents = IdSet()
        parents.add_many(np.arange(1, 11, dtype=np.int64))
        report = await load_file(conn, schema, SPEC, folder / "things.csv", folder / schema, {"p.parent": parents},
                                 "t.thing", bulk=bulk, block_bytes=block_bytes)
        rows = [tuple(r) for r in await conn.fetch(f"SELECT * FROM {schema}.thing ORDER BY id")]
        return report, rows
    finally:
        await conn.close()


def test_bulk_and_exact_paths_give_the_same_verdicts(tmp_path: Path, empty_db: str) -> None:
    (tmp_path / "things.csv").write_bytes(CONTENT)
    exact, exact_rows = asyncio.run(_load(empty_db, tmp_path, "exact", False, 1 << 20))
    rejects = (tmp_path / "exact" / "things.csv.rejects.csv").read_bytes()
    for schema, block_bytes in (("small", 64), ("large", 1 << 20)):
        report, rows = asyncio.run(_load(empty_db, tmp_path, schema, True, block_bytes))
        assert rows == exact_rows
        assert (tmp_path / schema / "things.csv.rejects.csv").read_bytes() == rejects
        assert (report.read, report.loaded, report.rejected, report.repaired) == \
            (exact.read, exact.loaded, exact.rejected, exact.repaired)
    names = {row[4] for row in exact_rows}
    assert {"null", "abcdef", "multi\nline", "lone\nreturn", "café", ""} <= names
    assert exact.read == exact.loaded + exact.rejected and exact.loaded == len(exact_rows)
    with open(tmp_path / "exact" / "things.csv.rejects.csv", newline="", encoding="utf-8") as fh:
        reasons = {row["line"]: row["reason"] for row in csv.DictReader(fh)}
    assert reasons["5"] == "parent_id 0 references no p.parent row"
    assert reasons["12"] == "rating: not an integer: '1_0'"
    assert reasons["14"] == "duplicate id 1"
    assert reasons["22"] == "expected 9 fields, found 6"  # an unterminated quote, closed at the line's end
    assert reasons["25"] == "count: not an integer: '1\"'"  # odd quotes: closed at its end too
    assert reasons["28"] == "expected 9 fields, found 10" and "27" not in reasons  # csv reads 27 on into 28
    assert reasons["29"] == "NUL character" and reasons["30"] == "invalid UTF-8"
    assert reasons["39"] == "duplicate id 32"
