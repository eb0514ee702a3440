"""The Q&A and cart legacy CSV generators (legacy-csv.md): format, real head rows, shape, defects."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from atelier.cart import generate as cart
from atelier.core.generating import FULL_PRODUCTS, GenerateOptions, Progress, legacy_lines
from atelier.qa import generate as qa

SCALE = 0.001
HEADERS = {
    "questions.csv": "id,product_id,body,date_written,asker_name,asker_email,reported,helpful",
    "answers.csv": "id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful",
    "answers_photos.csv": "id,answer_id,url",
    "cart.csv": "id,user_session,product_id,active",
}
STRING = r'"(?:[^"]|"")*"'
DATE = r"1(?:51[4-9]|5[2-9]\d|6[0-3]\d|640)\d{9}"  # epoch ms in 2018-01-01 .. 2021-12-31
CLEAN = {
    "questions.csv": re.compile(rf"[1-9]\d*,[1-9]\d*,{STRING},{DATE},{STRING},{STRING},[01],(?:[12]?\d|30)"),
    "answers.csv": re.compile(rf"[1-9]\d*,[1-9]\d*,{STRING},{DATE},{STRING},{STRING},[01],(?:[12]?\d|30)"),
    "answers_photos.csv": re.compile(r'[1-9]\d*,[1-9]\d*,"https://images\.unsplash\.com/[^"]+"'),
    "cart.csv": re.compile(r"[1-9]\d*,[1-9]\d*,[1-9]\d*,[01]"),
}


def run(module: ModuleType, out: Path, **kwargs: Any) -> list[Path]:
    return module.generate(GenerateOptions(out=out, scale=kwargs.pop("scale", SCALE), **kwargs))


def data_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[1:-1]


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qa-clean")
    run(qa, out, defect_rate=0)
    run(cart, out, defect_rate=0)
    return out


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qa-defects")
    run(qa, out, defect_rate=0.02)
    run(cart, out, defect_rate=0.1, scale=0.1)
    return out


def test_headers_exact_lf_and_every_clean_row_in_the_legacy_format(clean):
    for name, header in HEADERS.items():
        raw = (clean / name).read_bytes()
        assert raw.startswith(header.encode() + b"\n")
        assert b"\r" not in raw and raw.endswith(b"\n")
        for line in data_lines(clean / name)[9 if name == "questions.csv" else 0:]:
            assert CLEAN[name].fullmatch(line), (name, line)


def test_real_questions_verbatim_and_products_1_and_2_have_only_them(clean):
    assert data_lines(clean / "questions.csv")[:9] == legacy_lines("questions.csv")
    questions = rows(clean / "questions.csv")
    by_product = {p: [r for r in questions if r[1] == p] for p in ("1", "2")}
    assert [r[0] for r in by_product["1"]] == ["1", "2", "3", "4", "5", "6"]
    assert [r[0] for r in by_product["2"]] == ["7", "8", "9"]

    def listed(product: str) -> list[int]:
        shown = [r for r in by_product[product] if r[6] == "0"]
        return [int(r[0]) for r in sorted(shown, key=lambda r: (-int(r[7]), int(r[0])))]

    assert listed("1") == [3, 5, 4, 1]
    assert listed("2") == [9, 7]


def test_counts_scale_with_the_products(clean):
    products = round(FULL_PRODUCTS * SCALE)
    for name, full in (("questions.csv", 3_518_963), ("answers.csv", 6_879_306), ("answers_photos.csv", 2_063_759)):
        assert len(data_lines(clean / name)) == round(full * products / FULL_PRODUCTS)
    per_product = Counter(r[1] for r in rows(clean / "questions.csv"))
    assert 0.2 * products < products - len(per_product) < 0.6 * products  # skewed: many have none
    assert max(per_product.values()) > 15


def test_answers_are_interleaved_but_their_questions_exist(clean):
    question_ids = {r[0] for r in rows(clean / "questions.csv")}
    answers = rows(clean / "answers.csv")
    assert [int(r[0]) for r in answers] == list(range(1, len(answers) + 1))
    assert all(r[1] in question_ids for r in answers)
    same_as_previous = sum(a[1] == b[1] for a, b in zip(answers, answers[1:]))
    assert same_as_previous < 0.05 * len(answers)
    answer_ids = {r[0] for r in answers}
    photos = rows(clean / "answers_photos.csv")
    assert all(r[1] in answer_ids for r in photos)
    assert max(Counter(r[1] for r in photos).values()) <= 5


def test_answers_of_the_real_questions_sellers_and_reported_rows(clean):
    answers = rows(clean / "answers.csv")
    real = [r for r in answers if int(r[1]) <= 9]
    assert {int(r[1]) for r in real} == set(range(1, 10))
    assert all(int(r[0]) <= qa.SCRIPT_WINDOW for r in real)
    assert any(r[4] == "Seller" and r[1] == "3" for r in real)
    assert 0.03 < sum(r[4] == "Seller" for r in answers) / len(answers) < 0.1
    assert any(r[6] == "1" for r in answers)
    assert any(r[6] == "1" for r in rows(clean / "questions.csv")[9:])
    assert any('""' in line for line in data_lines(clean / "answers.csv"))  # embedded quotes doubled


def test_dates_fall_in_2018_to_2021_and_answers_come_after_their_question(clean):
    questions, answers = rows(clean / "questions.csv"), rows(clean / "answers.csv")
    assert all(1514764800000 <= int(r[3]) < 1640995200000 for r in questions + answers)
    dates = {r[0]: int(r[3]) for r in questions}
    assert all(int(r[3]) >= dates[r[1]] for r in answers)


def test_defects_present_and_rare(defective, clean):
    questions, answers = rows(defective / "questions.csv"), rows(defective / "answers.csv")
    photos, carts = rows(defective / "answers_photos.csv"), rows(defective / "cart.csv")
    question_ids = {r[0] for r in questions}

    def spaced(table, column):
        return [r for r in table if r[column] != r[column].strip() and r[column].strip().isdigit()]

    def junk(table, column):
        return [r for r in table if re.fullmatch(r"\d+x", r[column])]

    def swapped(table):
        ids = [int(r[0]) for r in table]
        return [a for a, b in zip(ids, ids[1:]) if a > b]

    assert [r for r in questions if r[1] == "0"]
    assert [r for r in answers if r[1].strip().isdigit() and r[1].strip() not in question_ids]
    assert spaced(questions, 1) + spaced(questions, 7) and spaced(answers, 1) + spaced(answers, 7)
    assert spaced(photos, 1) and spaced(carts, 1) + spaced(carts, 2)
    assert junk(questions, 7) and junk(answers, 7) and junk(photos, 1) and junk(carts, 2)
    assert [r for r in questions if r[6] == "2"] and [r for r in answers if r[6] == "2"]
    assert [r for r in carts if r[3] == "2"]
    assert swapped(questions) and swapped(answers) and swapped(photos) and swapped(carts)
    # ids stay a permutation of 1..n; the real rows stay intact; invalid rows are rare
    assert sorted(int(r[0]) for r in answers) == list(range(1, len(answers) + 1))
    assert data_lines(defective / "questions.csv")[:9] == legacy_lines("questions.csv")
    changed = set(data_lines(defective / "answers.csv")) - set(data_lines(clean / "answers.csv"))
    assert 0.005 * len(answers) < len(changed) < 0.03 * len(answers)


def test_same_arguments_give_identical_files_and_the_seed_matters(tmp_path, clean):
    run(qa, tmp_path / "a", defect_rate=0)
    run(cart, tmp_path / "a", defect_rate=0)
    for name in HEADERS:
        assert (tmp_path / "a" / name).read_bytes() == (clean / name).read_bytes()
    run(qa, tmp_path / "b", defect_rate=0, seed=2)
    assert (tmp_path / "b" / "answers.csv").read_bytes() != (clean / "answers.csv").read_bytes()


def test_blocks_and_worker_processes_do_not_change_the_output(tmp_path):
    options = GenerateOptions(out=tmp_path / "one", scale=SCALE, defect_rate=0.01)
    plan = qa.QaPlan(options.seed, options.products, options.defect_rate, block_products=200)
    assert plan.blocks == 5
    qa.write_files(options, plan, workers=0)
    options.out = tmp_path / "two"
    qa.write_files(options, plan, workers=2)
    for name in qa.FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    ids = sorted(int(r[0]) for r in rows(tmp_path / "one" / "questions.csv"))
    assert ids == list(range(1, plan.questions + 1))


def test_bom_crlf_copies_and_progress(tmp_path):
    log = io.StringIO()
    progress = Progress(enabled=True, stream_=log)
    options = GenerateOptions(out=tmp_path, scale=SCALE, bom_crlf=True, progress=progress)
    paths = qa.generate(options) + cart.generate(options)
    assert {p.name for p in paths if p.parent == tmp_path} == set(qa.FILES + cart.FILES)
    for name in qa.FILES + cart.FILES:
        copy = (tmp_path / "bom-crlf" / name).read_bytes()
        assert copy.startswith(b"\xef\xbb\xbf") and copy.count(b"\r\n") == copy.count(b"\n")
        assert copy[3:].replace(b"\r\n", b"\n") == (tmp_path / name).read_bytes()
        assert re.search(rf"^{re.escape(name)}: [\d,]+ rows in ", log.getvalue(), re.MULTILINE)


def test_cart_rows_name_existing_skus_in_sessions(clean, tmp_path):
    carts = rows(clean / "cart.csv")
    assert len(carts) == cart.MIN_ROWS
    assert all(1 <= int(r[2]) <= cart.highest_sku(SCALE) for r in carts)
    assert {r[3] for r in carts} == {"0", "1"}
    assert len({r[1] for r in carts}) < len(carts)  # sessions have several rows
    assert cart.highest_sku(0.00001) == 400
    run(cart, tmp_path, scale=1.0, defect_rate=0)
    full = rows(tmp_path / "cart.csv")
    assert len(full) == cart.FULL_ROWS
    assert max(int(r[2]) for r in full) < round(11_323_917 * 0.9)
