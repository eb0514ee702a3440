"""The Q&A loader on clean and on defective legacy input, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import asyncpg
from conftest import SAMPLE, atelier, fetch
from test_products_load import rejects, summary_counts
from test_qa_api import write_data

from atelier.qa.documents import REBUILD_PRODUCT, REBUILD_QUESTION

# Every defect form of legacy-csv.md and of the generator's docstring that concerns these files.
QUESTIONS = (
    "id,product_id,body,date_written,asker_name,asker_email,reported,helpful\n"
    '1,1,"What fabric, exactly?",1595884714409,"yankeelover","first.last@gmail.com",0,1\n'
    '3,1,"Swapped with 2",1608535907083,"jbilas","first.last@gmail.com",0,8\n'      # swapped ids: loaded
    '2,1,"HEY THIS IS A WEIRD QUESTION!!!!?",1613888219613,"jbilas","j@b.com",1,4\n'  # reported: loaded
    '4, 2 ,"Spaces around the product",1594341317010,"funnygirl","f@g.com",0, 6 \n'  # whitespace: loaded
    '5,0,"Question of product 0",1608855284662,"cleopatra","c@p.com",0,7\n'          # no product 0: rejected
    '6,1,"Junk helpful",1608855284662,"coolkid","c@k.com",0,3x\n'                    # junk number: rejected
    '7,2,"Bad boolean",1590428073460,"iluvcatz","i@c.com",2,0\n'                      # reported 2: rejected
    '8,2,"Bad date",15904x8073460,"iluvcatz","i@c.com",0,0\n'                         # junk date: rejected
    '1,2,"Duplicate id",1590428073460,"dup","d@d.com",0,0\n'                          # duplicate id: rejected
    '9,2,"Short row"\n'                                                               # field count: rejected
    '10,99,"Question of a missing product",1598026382276,"l33t","l@g.com",0,6\n'      # orphan: rejected
    '11,2,"Multi\nline body",1598026382276,"l33t","l@g.com",0,2\n'                    # quoted newline: loaded
)
ANSWERS_DEFECTIVE = (
    "id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful\n"
    '2,3,"Second",1599958871179,"b","b@b.com",0,3\n'
    '1,1,"First",1599958871179,"a","a@a.com",0,5\n'                    # swapped ids: loaded
    '3, 4,"Spaces",1599958871179,"c","c@c.com",0, 2\n'                 # whitespace: loaded
    '4,999,"Orphan question",1599958871179,"d","d@d.com",0,1\n'       # orphan: rejected
    '5,5,"Answer of a rejected question",1599958871179,"e","e@e.com",0,1\n'  # knock-on orphan: rejected
    '6,1,"Junk helpful",1599958871179,"f","f@f.com",0,2x\n'            # junk: rejected
    '7,1,"Bad boolean",1599958871179,"g","g@g.com",2,0\n'              # boolean: rejected
    '8,2,"Answer of a reported question",1599958871179,"h","h@h.com",1,0\n'  # reported: loaded
)
PHOTOS_DEFECTIVE = (
    "id,answer_id,url\n"
    '1,1,"https://x.example/1.jpg"\n'
    '3, 2 ,"https://x.example/3.jpg"\n'      # whitespace and swapped: loaded
    '2,1,"https://x.example/2.jpg"\n'
    '4,6,"https://x.example/4.jpg"\n'        # photo of a rejected answer: rejected
    '5,2x,"https://x.example/5.jpg"\n'       # junk answer id: rejected
    '6,77,"https://x.example/6.jpg"\n'       # orphan: rejected
)


def write_defective(folder: Path, bom_crlf: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"questions.csv": QUESTIONS, "answers.csv": ANSWERS_DEFECTIVE, "answers_photos.csv": PHOTOS_DEFECTIVE}
    for name, text in files.items():
        data = text.replace("\n", "\r\n").encode() if bom_crlf else text.encode()
        (folder / name).write_bytes((b"\xef\xbb\xbf" if bom_crlf else b"") + data)
    return folder


def load_products(url: str) -> None:
    atelier("load", "--data", str(SAMPLE), "--only", "products", env={"DATABASE_URL": url})


def test_defective_input_every_row_loaded_or_rejected(tmp_path: Path, empty_db: str) -> None:
    load_products(empty_db)  # questions check products from the database (not loaded in this run)
    data, rej = write_defective(tmp_path / "data"), tmp_path / "rejects"
    result = atelier("load", "--data", str(data), "--rejects", str(rej), "--only", "qa",
                     env={"DATABASE_URL": empty_db})
    counts = summary_counts(result.stdout)
    assert counts["questions.csv"] == (12, 5, 7)
    assert counts["answers.csv"] == (8, 4, 4)
    assert counts["answers_photos.csv"] == (6, 3, 3)

    found = rejects(rej)
    assert {name: len(rows) for name, rows in found.items()} == {"questions.csv": 7, "answers.csv": 4,
                                                                  "answers_photos.csv": 3}
    by_line = {r["line"]: r for r in found["questions.csv"]}
    assert set(by_line) == {"6", "7", "8", "9", "10", "11", "12"}
    assert all(r["file"] == "questions.csv" for r in found["questions.csv"])
    assert "product_id 0" in by_line["6"]["reason"] and by_line["6"]["raw"].startswith("5,0,")
    assert "helpful" in by_line["7"]["reason"] and by_line["7"]["raw"].endswith("3x")
    assert "reported" in by_line["8"]["reason"]
    assert "date_written" in by_line["9"]["reason"]
    assert "duplicate id 1" in by_line["10"]["reason"]
    assert "expected 8 fields" in by_line["11"]["reason"]
    assert "product_id 99" in by_line["12"]["reason"]
    answer_reasons = {r["line"]: r["reason"] for r in found["answers.csv"]}
    assert set(answer_reasons) == {"5", "6", "7", "8"}
    assert "question_id 999" in answer_reasons["5"] and "question_id 5" in answer_reasons["6"]
    assert "helpful" in answer_reasons["7"] and "reported" in answer_reasons["8"]
    photo_reasons = {r["line"]: r["reason"] for r in found["answers_photos.csv"]}
    assert "answer_id 6" in photo_reasons["5"] and "answer_id" in photo_reasons["6"]
    assert "answer_id 77" in photo_reasons["7"]

    rows = fetch(empty_db, "SELECT id, product_id, body, reported, helpful FROM qa.question ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (1, 1, "What fabric, exactly?", False, 1), (2, 1, "HEY THIS IS A WEIRD QUESTION!!!!?", True, 4),
        (3, 1, "Swapped with 2", False, 8), (4, 2, "Spaces around the product", False, 6),
        (11, 2, "Multi\nline body", False, 2)]
    assert [r[0] for r in fetch(empty_db, "SELECT id FROM qa.answer ORDER BY id")] == [1, 2, 3, 8]
    assert [r[0] for r in fetch(empty_db, "SELECT id FROM qa.answer_photo ORDER BY id")] == [1, 2, 3]
    date = fetch(empty_db, "SELECT date_written FROM qa.question WHERE id = 1")[0][0]
    assert int(date.timestamp() * 1000) == 1595884714409


def test_documents_after_the_load(tmp_path: Path, empty_db: str) -> None:
    data = write_defective(tmp_path / "data")
    shutil.copy(SAMPLE / "product.csv", data / "product.csv")
    for name in ("features.csv", "styles.csv", "photos.csv", "skus.csv", "related.csv"):
        shutil.copy(SAMPLE / name, data / name)
    atelier("load", "--data", str(data), "--only", "products", "qa", env={"DATABASE_URL": empty_db})
    docs = {r[0]: r[1] for r in fetch(empty_db, "SELECT product_id, questions FROM qa.product_document")}
    assert set(docs) == {1, 2}
    assert docs[1] == [
        b'{"question_id":3,"question_body":"Swapped with 2","question_date":"2020-12-21T00:00:00.000Z",'
        b'"asker_name":"jbilas","question_helpfulness":8,"reported":false,"answers":{"2":{"id":2,"body":"Second",'
        b'"date":"2020-09-13T00:00:00.000Z","answerer_name":"b","helpfulness":3,'
        b'"photos":["https://x.example/3.jpg"]}}}',
        b'{"question_id":1,"question_body":"What fabric, exactly?","question_date":"2020-07-27T00:00:00.000Z",'
        b'"asker_name":"yankeelover","question_helpfulness":1,"reported":false,"answers":{"1":{"id":1,'
        b'"body":"First","date":"2020-09-13T00:00:00.000Z","answerer_name":"a","helpfulness":5,'
        b'"photos":["https://x.example/1.jpg","https://x.example/2.jpg"]}}}']
    assert [d[:17] for d in docs[2]] == [b'{"question_id":4,', b'{"question_id":11']
    assert b'"question_body":"Multi\\nline body"' in docs[2][1]
    answers = {r[0]: r[1] for r in fetch(empty_db, "SELECT question_id, answers FROM qa.question_document")}
    assert set(answers) == {1, 2, 3, 4, 11}  # every loaded question, reported or not
    assert answers[1] == [b'{"answer_id":1,"body":"First","date":"2020-09-13T00:00:00.000Z","answerer_name":"a",'
                          b'"helpfulness":5,"photos":[{"id":1,"url":"https://x.example/1.jpg"},'
                          b'{"id":2,"url":"https://x.example/2.jpg"}]}']
    assert answers[2] == [] and answers[11] == []  # answer 8 of question 2 is reported


def test_loading_in_several_processes_gives_the_same_result(tmp_path: Path, empty_db: str) -> None:
    """In processes (ATELIER_LOAD_CONCURRENT_BYTES=0) the three files parse side by side, each
    checked against the ids its parent's process adds meanwhile: the same rows and rejects."""
    load_products(empty_db)
    data = write_defective(tmp_path / "data")
    with open(data / "answers.csv", "a") as fh:
        fh.write('9,999,"Orphan first",1599958871179,"i","i@i.com",0,1\n'   # orphan: rejected
                 '9,1,"Its id again",1599958871179,"j","j@j.com",0,1\n'     # the orphan's id: loaded
                 '10,3,"Loaded",1599958871179,"k","k@k.com",0,1\n'
                 '10,1,"Duplicate",1599958871179,"l","l@l.com",0,1\n')      # duplicate: rejected
    with open(data / "answers_photos.csv", "a") as fh:
        fh.write('7,9,"https://x.example/7.jpg"\n7,10,"https://x.example/8.jpg"\n')  # the second: duplicate
    tables = ("question", "answer", "answer_photo", "product_document", "question_document")

    def load(rejects_dir: Path, env: dict[str, str]) -> tuple[dict[str, tuple[int, int, int]], list[Any]]:
        result = atelier("load", "--data", str(data), "--rejects", str(rejects_dir), "--only", "qa",
                         env={"DATABASE_URL": empty_db, **env})
        return summary_counts(result.stdout), [fetch(empty_db, f"SELECT * FROM qa.{t} ORDER BY 1") for t in tables]

    sequential = load(tmp_path / "r1", {})
    concurrent = load(tmp_path / "r2", {"ATELIER_LOAD_CONCURRENT_BYTES": "0"})
    assert sequential[0]["answers.csv"] == (12, 6, 6) and sequential[0]["answers_photos.csv"] == (8, 4, 4)
    assert concurrent == sequential
    assert rejects(tmp_path / "r2") == rejects(tmp_path / "r1")


def test_bom_crlf_copies_load_the_same(tmp_path: Path, empty_db: str) -> None:
    load_products(empty_db)
    env = {"DATABASE_URL": empty_db}
    plain = summary_counts(atelier("load", "--data", str(write_defective(tmp_path / "plain")), "--only", "qa",
                                   env=env).stdout)
    docs_plain = fetch(empty_db, "SELECT * FROM qa.product_document ORDER BY 1")
    bom = summary_counts(atelier("load", "--data", str(write_defective(tmp_path / "bom", bom_crlf=True)),
                                 "--only", "qa", env=env).stdout)
    docs_bom = fetch(empty_db, "SELECT * FROM qa.product_document ORDER BY 1")
    assert plain == bom and docs_plain == docs_bom


def test_reload_is_idempotent_and_ids_continue(tmp_path: Path, empty_db: str) -> None:
    data = write_data(tmp_path / "data")
    env = {"DATABASE_URL": empty_db}
    tables = ("question", "answer", "answer_photo", "product_document", "question_document")

    def snapshot() -> dict[str, list[asyncpg.Record]]:
        return {t: fetch(empty_db, f"SELECT * FROM qa.{t} ORDER BY 1") for t in tables}

    first = summary_counts(atelier("load", "--data", str(data), "--only", "products", "qa", env=env).stdout)
    rows = snapshot()
    second = summary_counts(atelier("load", "--data", str(data), "--only", "qa", env=env).stdout)
    assert first["questions.csv"] == second["questions.csv"] == (9, 9, 0)
    assert first["answers.csv"] == (11, 11, 0) and first["answers_photos.csv"] == (4, 4, 0)
    assert snapshot() == rows
    next_ids = fetch(empty_db, "SELECT nextval(pg_get_serial_sequence('qa.question', 'id')), "
                               "nextval(pg_get_serial_sequence('qa.answer', 'id')), "
                               "nextval(pg_get_serial_sequence('qa.answer_photo', 'id'))")[0]
    assert tuple(next_ids) == (10, 12, 5)


def test_generated_files_load_and_documents_match_their_rebuild(tmp_path: Path, empty_db: str) -> None:
    """The bulk build and the per-write rebuild produce the same documents, defects included."""
    data = tmp_path / "data"
    atelier("generate", "--out", str(data), "--scale", "0.0002", "--defect-rate", "0.02", "--only", "products", "qa",
            "--quiet")
    result = atelier("load", "--data", str(data), "--rejects", str(tmp_path / "rejects"), "--only", "products", "qa",
                     env={"DATABASE_URL": empty_db})
    counts = summary_counts(result.stdout)
    for name in ("questions.csv", "answers.csv", "answers_photos.csv"):
        read, loaded, rejected = counts[name]
        assert read == loaded + rejected and loaded > 0
        lines = (data / name).read_text().count("\n") - 1
        assert read <= lines  # quoted newlines join lines into one record
    rejected_rows = rejects(tmp_path / "rejects")
    assert sum(len(v) for v in rejected_rows.values()) == sum(c[2] for n, c in counts.items() if n in rejected_rows)

    async def rebuild_all() -> tuple[list[asyncpg.Record], ...]:
        conn = await asyncpg.connect(empty_db)
        try:
            bulk = (await conn.fetch("SELECT * FROM qa.product_document ORDER BY 1"),
                    await conn.fetch("SELECT * FROM qa.question_document ORDER BY 1"))
            for product_id, _ in bulk[0]:
                await conn.execute(REBUILD_PRODUCT, product_id)
            for question_id, _ in bulk[1]:
                await conn.execute(REBUILD_QUESTION, question_id)
            rebuilt = (await conn.fetch("SELECT * FROM qa.product_document ORDER BY 1"),
                       await conn.fetch("SELECT * FROM qa.question_document ORDER BY 1"))
            return bulk + rebuilt
        finally:
            await conn.close()

    bulk_products, bulk_questions, rebuilt_products, rebuilt_questions = asyncio.run(rebuild_all())
    assert len(bulk_products) > 50 and sum(len(r[1]) for r in bulk_questions) > 500
    assert rebuilt_products == bulk_products
    assert rebuilt_questions == bulk_questions


def test_missing_answers_file_skips_the_service(tmp_path: Path, empty_db: str) -> None:
    shutil.copy(SAMPLE / "questions.csv", tmp_path / "questions.csv")
    result = atelier("load", "--data", str(tmp_path), "--only", "qa", env={"DATABASE_URL": empty_db})
    assert "qa: skipped" in result.stdout and "answers.csv" in result.stdout



def test_qa_without_products_is_a_clear_error(tmp_path: Path, empty_db: str) -> None:
    result = atelier("load", "--data", str(write_defective(tmp_path / "data")), "--only", "qa",
                     env={"DATABASE_URL": empty_db}, check=False)
    assert result.returncode == 1 and "no products.product table" in result.stderr
    assert "load products first" in result.stderr and "Traceback" not in result.stderr
    assert fetch(empty_db, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'qa%'") == []
