"""Checking a file against the ids of a parent file that is still loading (SharedIdSet)."""

from __future__ import annotations

import asyncio
import csv
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from atelier.core.loading.ids import IdSet
from atelier.core.loading.parsers import positive_id, reference
from atelier.core.loading.shared_ids import SharedIdSet
from atelier.core.loading.spec import Column, FileSpec
from atelier.core.loading.stream import FileReport, load_file

ANSWERS = FileSpec("answers.csv", "answer", [Column("id", positive_id), Column("question_id", reference, parent="q")])

# Questions 1, 2 and 200000000 are there when the answers start, 3 comes while they load, 9 never.
ROWS = (
    "id,question_id\n"
    "1,1\n"
    "2,3\n"  # held until question 3 comes: loaded
    "3,9\n"  # held, then an orphan
    "3,1\n"  # its key is held: loaded once the row above is rejected
    "4,3\n"  # held: loaded
    "4,1\n"  # its key is held: a duplicate once the row above loads
    "5,2\n"
    "5,1\n"  # a duplicate of a loaded row: rejected at once
    "2x,1\n"  # not an integer: rejected at once
    "6,200000000\n"  # above the bitmap: other processes see it once the questions are complete
)


def load_answers(tmp_path: Path, url: str, questions: IdSet, meanwhile: Callable[[], None]) -> FileReport:
    """Loads ROWS into a fresh table, checked against `questions`; `meanwhile` runs in a thread."""
    (tmp_path / "answers.csv").write_text(ROWS)

    async def go() -> FileReport:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE TABLE answer (id integer, question_id integer)")
            thread = threading.Thread(target=meanwhile)
            thread.start()
            try:
                return await load_file(conn, "public", ANSWERS, tmp_path / "answers.csv", tmp_path / "rejects",
                                       {"q": questions}, "a")
            finally:
                thread.join()
        finally:
            await conn.close()

    return asyncio.run(go())


def test_rows_wait_for_their_parent_and_get_the_sequential_verdicts(tmp_path: Path, empty_db: str) -> None:
    questions = SharedIdSet(tmp_path / "question")
    for question in (1, 2, 200_000_000):
        questions.add(question)
    reader = pickle.loads(pickle.dumps(questions))  # what a loader in another process sees

    def parent_file_goes_on() -> None:
        time.sleep(0.3)
        questions.add(3)
        time.sleep(0.3)
        questions.finish()

    report = load_answers(tmp_path, empty_db, reader, parent_file_goes_on)
    assert (report.read, report.loaded, report.rejected) == (10, 6, 4)
    rows = asyncio.run(_fetch(empty_db, "SELECT id, question_id FROM answer ORDER BY id"))
    assert rows == [(1, 1), (2, 3), (3, 1), (4, 3), (5, 2), (6, 200_000_000)]
    with open(tmp_path / "rejects" / "answers.csv.rejects.csv", newline="") as fh:
        rejects = [(r["line"], r["reason"], r["raw"]) for r in csv.DictReader(fh)]
    assert rejects == [  # in line order, although lines 4 and 7 were decided late
        ("4", "question_id 9 references no q row", "3,9"), ("7", "duplicate id 4", "4,1"),
        ("9", "duplicate id 5", "5,1"), ("10", "id: not an integer: '2x'", "2x,1")]


def test_a_parent_file_that_fails_stops_its_children(tmp_path: Path, empty_db: str) -> None:
    questions = SharedIdSet(tmp_path / "question")
    reader = pickle.loads(pickle.dumps(questions))

    def parent_file_fails() -> None:
        time.sleep(0.2)
        questions.abandon()

    with pytest.raises(RuntimeError, match="question failed"):
        load_answers(tmp_path, empty_db, reader, parent_file_fails)


def test_private_copy_has_every_id(tmp_path: Path) -> None:
    shared = SharedIdSet(tmp_path / "ids")
    ids = [1, 7, 4096, 1 << 26, (1 << 27) + 5, 2_000_000_000]
    for i in ids:
        shared.add(i)
    copy = shared.private_copy()
    assert all(i in copy for i in ids) and copy.count == len(ids)
    assert 2 not in copy and 4097 not in copy and -1 not in copy
    assert not copy.add(7) and copy.add(8)


async def _fetch(url: str, sql: str) -> list[tuple[int, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_ids_from_a_query_are_exactly_the_rows(empty_db: str) -> None:
    """IdSet.from_query packs the ids into bitmap words in the database: every edge of a word and
    of the bitmap, ids above it, negative ids, duplicates and NULLs come out as one by one."""
    limit = IdSet._BITMAP_LIMIT
    values = [0, 1, 62, 63, 64, 65, 127, 128, 1000, 1001, 63 * 64 + 63, limit - 1, limit, limit + 5, 2**31 - 1,
              -1, -64, 5, 63, limit]  # the last three are duplicates
    values += list(range(10_000, 20_000, 3))

    async def go() -> IdSet:
        conn = await asyncpg.connect(empty_db)
        try:
            await conn.execute("CREATE TEMP TABLE ids_test (id integer)")
            await conn.executemany("INSERT INTO ids_test VALUES ($1)", [(v,) for v in values] + [(None,)])
            return await IdSet.from_query(conn, "SELECT id FROM ids_test")
        finally:
            await conn.close()

    ids = asyncio.run(go())
    expected = set(values)
    assert ids.count == len(expected)
    assert all(v in ids for v in expected)
    assert not any(v in ids for v in set(range(-70, 25_000)) - expected)
    assert not any(v in ids for v in (limit + 1, 2**31 - 2, -65))
