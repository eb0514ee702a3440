"""The reviews-side legacy CSV generator: format, real rows, the legacy meta oracle, shape,
defects, determinism and the re-saved copies."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from atelier.core.generating import GenerateOptions, legacy_lines
from atelier.products.plan import characteristic_names
from atelier.reviews import generate as reviews_generate
from atelier.reviews.generate import FILES, HEADERS, Layout, generate

SCALE = 0.001  # 1,000 products
PRODUCTS = 1000
DATE_MIN, DATE_MAX = 1_588_291_200_000, 1_619_827_200_000  # 2020-05-01 .. 2021-05-01 UTC


def _options(out: Path, **kw: Any) -> GenerateOptions:
    return GenerateOptions(out=out, scale=kw.pop("scale", SCALE), **kw)


def _rows(directory: Path, name: str) -> list[list[str]]:
    with open(directory / name, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return list(reader)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reviews-clean")
    generate(_options(out, defect_rate=0.0))
    return out


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reviews-defects")
    generate(_options(out, defect_rate=0.05))
    return out


def test_headers_and_encoding(clean: Path) -> None:
    for name in FILES:
        data = (clean / name).read_bytes()
        assert data.split(b"\n", 1)[0].decode() == HEADERS[name]
        assert b"\r" not in data and data.endswith(b"\n") and not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
    assert HEADERS["reviews.csv"] == ("id,product_id,rating,date,summary,body,recommend,reported,reviewer_name,"
                                      "reviewer_email,response,helpfulness")
    assert HEADERS["reviews_photos.csv"] == "id,review_id,url"
    assert HEADERS["characteristics.csv"] == "id,product_id,name"
    assert HEADERS["characteristic_reviews.csv"] == "id,characteristic_id,review_id,value"


@pytest.mark.parametrize("out_name", ["clean", "defective"])
def test_head_rows_verbatim_and_no_tail_below_full_scale(out_name: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(out_name)
    for name in FILES:
        lines = (out / name).read_text(encoding="utf-8").split("\n")[1:]
        sample = legacy_lines(name)
        head = [line for line in sample if int(line.split(",")[0]) < 1000]
        assert lines[:len(head)] == head
        assert not set(sample) - set(head) & set(lines)  # tail rows only at full scale
    chars = (out / "characteristics.csv").read_text().split("\n")
    assert chars[21] == '21,6,"Quality"'
    ratings = (out / "characteristic_reviews.csv").read_text().split("\n")
    assert ratings[20:26] == ["20,12,9,4", "21,13,9,5", "22,10,10,5", "23,11,10,5", "24,12,10,5", "25,13,10,5"]


def _meta(out: Path, product: int) -> dict[str, str | None]:
    """api.md's meta characteristics for a product: the average as PostgreSQL prints avg()."""
    chars = {int(r[0]): r[2] for r in _rows(out, "characteristics.csv") if int(r[1]) == product}
    reviews = {int(r[0]) for r in _rows(out, "reviews.csv") if int(r[1]) == product}
    values: dict[int, list[int]] = defaultdict(list)
    for r in _rows(out, "characteristic_reviews.csv"):
        if int(r[1]) in chars and int(r[2]) in reviews:
            values[int(r[1])].append(int(r[3]))
    meta: dict[str, str | None] = {}
    for cid, name in chars.items():
        if values[cid]:
            average = Fraction(sum(values[cid]), len(values[cid]))
            exact = Decimal(average.numerator) / Decimal(average.denominator)
            meta[name] = str(exact.quantize(Decimal("1e-16"), rounding=ROUND_HALF_UP))
        else:
            meta[name] = None
    return meta


@pytest.mark.parametrize("out_name", ["clean", "defective"])
def test_legacy_meta_oracle(out_name: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(out_name)
    assert _meta(out, 4) == {name: "3.6666666666666667" for name in ("Fit", "Length", "Comfort", "Quality")}
    assert _meta(out, 1)["Fit"] == "4.0000000000000000"
    assert _meta(out, 1)["Length"] == "3.5000000000000000"
    assert _meta(out, 3) == {"Fit": None, "Length": None, "Comfort": None, "Quality": None}
    reviews = _rows(out, "reviews.csv")
    assert sorted(r[2] for r in reviews if r[1] == "4") == ["2", "4", "5"]
    assert sorted(r[6] for r in reviews if r[1] == "4") == ["false", "true", "true"]
    assert [r[0] for r in reviews if r[1] in {"3", "6", "8", "9", "10", "11"}] == []
    chars = _rows(out, "characteristics.csv")
    assert [(r[0], r[2]) for r in chars if r[1] == "3"] == [("6", "Fit"), ("7", "Length"), ("8", "Comfort"),
                                                          ("9", "Quality")]
    assert [(r[0], r[2]) for r in chars if r[1] == "2"] == [("5", "Quality")]


def test_values_and_integrity_without_defects(clean: Path) -> None:
    reviews, photos = _rows(clean, "reviews.csv"), _rows(clean, "reviews_photos.csv")
    chars, ratings = _rows(clean, "characteristics.csv"), _rows(clean, "characteristic_reviews.csv")
    for rows in (reviews, photos, chars, ratings):
        ids = [int(r[0]) for r in rows]
        assert sorted(ids) == list(range(1, len(ids) + 1))
        assert {(a, b) for a, b in zip(ids, ids[1:]) if b < a} <= {(8, 7)}  # the sample's photos 8, 7
    review_product = {int(r[0]): int(r[1]) for r in reviews}
    char_product = {int(r[0]): int(r[1]) for r in chars}
    for r in reviews:
        assert 1 <= int(r[1]) <= PRODUCTS and r[2] in "12345" and len(r[2]) == 1
        assert len(r[3]) == 13 and (int(r[0]) <= 15 or DATE_MIN <= int(r[3]) < DATE_MAX)
        assert r[6] in ("true", "false") and r[7] in ("true", "false") and 0 <= int(r[11]) <= 30
    assert review_product[max(review_product)] == PRODUCTS  # the last product owns the last review
    assert all(int(r[1]) in review_product and r[2].startswith("https://images.unsplash.com/photo-") for r in photos)
    assert max(Counter(r[1] for r in photos).values()) <= 5
    seen = set()
    for r in ratings:
        cid, rid = int(r[1]), int(r[2])
        assert char_product[cid] == review_product[rid] and r[3] in ("1", "2", "3", "4", "5")
        assert (cid, rid) not in seen
        seen.add((cid, rid))
    names: dict[int, list[str]] = defaultdict(list)
    for r in chars:
        names[int(r[1])].append(r[2])
    assert sorted(names) == list(range(1, PRODUCTS + 1))  # every product has characteristics
    for product in range(7, PRODUCTS + 1):
        plan = characteristic_names(1, product)
        assert names[product][-1] == "Quality" and [n for n in plan if n in names[product]] == names[product]


def test_shape_matches_the_spec_ratios(clean: Path) -> None:
    reviews, photos = _rows(clean, "reviews.csv"), _rows(clean, "reviews_photos.csv")
    chars, ratings = _rows(clean, "characteristics.csv"), _rows(clean, "characteristic_reviews.csv")
    per_product = Counter(int(r[1]) for r in reviews)
    assert len(reviews) / PRODUCTS == pytest.approx(5_774_952 / 1_000_011, rel=0.01)
    assert 0.2 < sum(1 for p in range(1, PRODUCTS + 1) if p not in per_product) / PRODUCTS < 0.45
    assert max(per_product.values()) >= 40
    assert len(photos) / len(reviews) == pytest.approx(2_742_540 / 5_774_952, rel=0.03)
    assert len(chars) / PRODUCTS == pytest.approx(3_347_679 / 1_000_011, rel=0.01)
    assert len(ratings) / len(reviews) == pytest.approx(19_327_575 / 5_774_952, rel=0.03)
    natural = Counter(int(r[1]) for r in chars)
    rated = Counter(int(r[2]) for r in ratings)
    product_of = {int(r[0]): int(r[1]) for r in reviews}
    fewer = sum(1 for rid, n in rated.items() if n < natural[product_of[rid]])
    assert 0 < fewer < 0.3 * len(reviews)  # some reviews rate fewer characteristics
    reported = sum(1 for r in reviews if r[7] == "true")
    assert 0 < reported < 0.06 * len(reviews)
    assert 0.8 < sum(1 for r in reviews if r[10] == "null") / len(reviews) < 0.97
    assert all(re.fullmatch(r"[A-Z][a-z]+([._]?[A-Z][a-z]+)?\d*", r[8]) for r in reviews[15:])
    assert all(re.fullmatch(r"[A-Za-z._]+\d*@(gmail|yahoo|hotmail)\.com", r[9]) for r in reviews[15:])


def test_defects_are_present_and_documented_forms(defective: Path) -> None:
    text = {name: (defective / name).read_text(encoding="utf-8") for name in FILES}
    reviews, photos = _rows(defective, "reviews.csv"), _rows(defective, "reviews_photos.csv")
    chars, ratings = _rows(defective, "characteristics.csv"), _rows(defective, "characteristic_reviews.csv")
    for rows in (reviews, photos, chars, ratings):
        ids = [int(r[0]) for r in rows]
        assert any(b < a for a, b in zip(ids, ids[1:]))  # neighbours swapped
        assert any(f != f.strip() for r in rows for f in r)  # stray whitespace
    assert any(r[1] == "0" or int(r[1]) > PRODUCTS for r in reviews if r[1].strip().isdigit())
    assert any(r[2].endswith("x") or r[11].endswith("x") for r in reviews)
    assert any(r[6] in ("yes", "no") or r[7] in ("yes", "no") for r in reviews)
    review_ids = {r[0].strip() for r in reviews}
    assert any(r[1].strip() not in review_ids for r in photos)
    char_ids = {r[0].strip() for r in chars}
    assert any(r[1].strip() not in char_ids for r in ratings)
    assert any(r[2].strip() not in review_ids for r in ratings)
    assert any(r[3].endswith("x") for r in ratings)
    # invalid reviews own nothing: rejecting them orphans no photo or rating
    invalid = {r[0].strip() for r in reviews if not r[1].strip().isdigit() or r[1].strip() == "0"
               or int(r[1]) > PRODUCTS or r[2].endswith("x") or r[11].endswith("x")
               or {r[6], r[7]} - {"true", "false"}}
    assert invalid
    assert not invalid & {r[1].strip() for r in photos} and not invalid & {r[2].strip() for r in ratings}
    # invalid rows stay rare; characteristics never invalid
    assert all(r[0].strip().isdigit() and r[1].strip().isdigit() for r in chars)
    assert len(invalid) < 0.05 * len(reviews)
    assert all(len(line.split(",")) == 4 for line in text["characteristic_reviews.csv"].splitlines())


def test_deterministic(tmp_path: Path, clean: Path) -> None:
    generate(_options(tmp_path / "a", defect_rate=0.0))
    generate(_options(tmp_path / "b", defect_rate=0.0, seed=2))
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (clean / name).read_bytes()
    assert (tmp_path / "b" / "reviews.csv").read_bytes() != (clean / "reviews.csv").read_bytes()


def test_same_files_whatever_the_number_of_workers(tmp_path: Path) -> None:
    options = dict(scale=0.01, defect_rate=0.01)  # 10,000 products: two blocks
    assert len(Layout.of(_options(tmp_path, **dict(options))).blocks()) == 2
    generate(_options(tmp_path / "one", **dict(options)), workers=1)
    generate(_options(tmp_path / "two", **dict(options)), workers=2)
    for name in FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_bom_crlf_copies(tmp_path: Path) -> None:
    paths = generate(_options(tmp_path, bom_crlf=True))
    assert [p.name for p in paths] == list(FILES) * 2
    for name in FILES:
        original = (tmp_path / name).read_bytes()
        copy = (tmp_path / "bom-crlf" / name).read_bytes()
        assert copy == b"\xef\xbb\xbf" + original.replace(b"\n", b"\r\n")
        assert list(csv.reader(io.StringIO(copy.decode("utf-8-sig"), newline=""))) == list(
            csv.reader(io.StringIO(original.decode(), newline="")))


def test_full_scale_last_block_meets_the_sample_tail() -> None:
    """At full scale the last block's generated ids run exactly up to the sample's tail rows."""
    layout = Layout(seed=1, products=1_000_011, full=True, rate=0.001)
    first, last = layout.blocks()[-1]
    totals = {"reviews.csv": 5_774_952, "reviews_photos.csv": 2_742_540, "characteristics.csv": 3_347_679,
              "characteristic_reviews.csv": 19_327_575}
    for name in FILES:
        assert layout.total(name) == totals[name]
        lines = reviews_generate.RENDER[name](layout, first, last)
        tail = [line for line in legacy_lines(name) if int(line.split(",")[0]) >= 1000]
        assert lines[-len(tail):] == tail
        ids = sorted(int(line.split(",")[0]) for line in lines)
        assert ids == list(range(ids[0], totals[name] + 1))
    # the sample's tail reviews 5,774,934-5,774,945 rate all four characteristics of their product
    ratings = [line.split(",") for line in reviews_generate.RENDER["characteristic_reviews.csv"](layout, first, last)]
    rated = defaultdict(set)
    for _, cid, rid, _ in ratings:
        rated[int(rid)].add(int(cid))
    assert rated[5_774_934] == set(range(3_347_668, 3_347_672))
    assert rated[5_774_940] == set(range(3_347_676, 3_347_680))
