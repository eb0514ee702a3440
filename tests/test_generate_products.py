"""The products-side legacy CSV generator: format, real rows, shape, defects, determinism."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from atelier.core.generating import GenerateOptions, Progress, legacy_lines
from atelier.products import plan
from atelier.products.generate import FILES, Job, Task, generate, render

SPEC_HEADERS = {
    "product.csv": "id,name,slogan,description,category,default_price",
    "features.csv": "id,product_id,feature,value",
    "styles.csv": "id,productId,name,sale_price,original_price,default_style",
    "photos.csv": "id,styleId,url,thumbnail_url",
    "skus.csv": "id,styleId,size,quantity",
    "related.csv": "id,current_product_id,related_product_id",
}
FULL = {"product.csv": 1_000_011, "features.csv": 2_219_279, "styles.csv": 1_958_102,
        "photos.csv": 5_655_700, "skus.csv": 11_323_917, "related.csv": 4_508_263}
STRING = r'"(?:[^"]|"")*"'
NUMBER = r"\d+"
# One line of each file without defects: strings quoted, numbers bare, null bare.
LINE = {
    "product.csv": re.compile(rf"^{NUMBER},{STRING},{STRING},{STRING},{STRING},{NUMBER}$"),
    "features.csv": re.compile(rf"^{NUMBER},{NUMBER},{STRING},(?:{STRING}|null)$"),
    "styles.csv": re.compile(rf"^{NUMBER},{NUMBER},{STRING},(?:{NUMBER}|null),{NUMBER},[01]$"),
    "photos.csv": re.compile(rf"^{NUMBER},{NUMBER},{STRING},{STRING}$"),
    "skus.csv": re.compile(rf'^{NUMBER},{NUMBER},"(?:XS|S|M|L|XL|XXL|One Size|7|7\.5|8|8\.5|9|9\.5|10|10\.5|11|'
                           rf'11\.5|12|12\.5|13)",{NUMBER}$'),
    "related.csv": re.compile(rf"^{NUMBER},{NUMBER},{NUMBER}$"),
}
REAL_IDS = {name: {int(line.split(",", 1)[0]) for line in legacy_lines(name)} for name in FILES}


def _generate(out: Path, **kwargs: Any) -> dict[str, Path]:
    options = GenerateOptions(out=out, **{"scale": 0.001, **kwargs})
    return {path.name: path for path in generate(options) if path.parent == out}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[1:-1]


def _rows(path: Path) -> list[list[str]]:
    """Fields of every data line, each line parsed alone (an unterminated quote stays in its line)."""
    return [next(csv.reader([line])) for line in _lines(path)]


def _generated(name: str, rows: list[list[str]]) -> list[list[str]]:
    """Rows after the real ones (ids beyond the sample's)."""
    return [row for row in rows if int(row[0]) not in REAL_IDS[name]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _generate(tmp_path_factory.mktemp("clean"), defect_rate=0)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _generate(tmp_path_factory.mktemp("default"), scale=0.01)


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _generate(tmp_path_factory.mktemp("defective"), defect_rate=0.05)


def test_files_and_headers_are_exact(clean: dict[str, Path]) -> None:
    assert tuple(clean) == FILES
    for name, path in clean.items():
        data = path.read_bytes()
        assert data.split(b"\n", 1)[0].decode() == SPEC_HEADERS[name]
        assert b"\r" not in data and not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\n")
        data.decode("utf-8")


def test_real_head_rows_are_verbatim_at_the_start(clean: dict[str, Path]) -> None:
    for name, path in clean.items():
        sample = [line for line in legacy_lines(name) if int(line.split(",", 1)[0]) < 999_996]
        assert _lines(path)[: len(sample)] == sample, name
    # generated children continue after the sample's ids
    for name, first in (("features.csv", "48,21,"), ("styles.csv", "66,17,"), ("photos.csv", "396,66,"),
                        ("skus.csv", "436,66,"), ("related.csv", "93,21,")):
        assert _lines(clean[name])[len(legacy_lines(name))].startswith(first), name


def test_real_tail_products_are_verbatim_at_full_scale() -> None:
    tail = [line for line in legacy_lines("product.csv") if int(line.split(",", 1)[0]) >= 999_996]
    text, rows = render(Job(1, 1_000_011, 0.001, True), Task("product.csv", 1_000_011 // 4096, 0, 0))
    lines = text.split("\n")[:-1]
    assert rows == len(lines) and lines[-len(tail):] == tail
    assert lines[-len(tail) - 1].split(",", 1)[0] in ("999995", "999994")  # maybe swapped
    # below full scale the tail ids are ordinary generated products
    text, _ = render(Job(1, 1_000_010, 0.001, False), Task("product.csv", 1_000_010 // 4096, 0, 0))
    assert not set(tail) & set(text.split("\n"))


def test_rows_are_well_formed_without_defects(clean: dict[str, Path]) -> None:
    for name, path in clean.items():
        bad = [line for line in _lines(path)[len(legacy_lines(name)):] if not LINE[name].match(line)]
        assert bad == [], name


def test_counts_follow_the_spec_ratios(default: dict[str, Path]) -> None:
    products = len(_lines(default["product.csv"]))
    assert products == round(1_000_011 * 0.01)
    for name, path in default.items():
        expected = FULL[name] * products / FULL["product.csv"]
        assert abs(len(_lines(path)) - expected) < 0.04 * expected, name


def test_shape_of_generated_rows(default: dict[str, Path]) -> None:
    rows = _rows(default["product.csv"])
    expected = plan.categories(1, 1, len(rows))
    assert sorted((int(r[0]), r[4]) for r in rows) == list(enumerate(expected, start=1))
    assert all(rows[i][4] == plan.category(1, int(rows[i][0])) for i in range(0, len(rows), 500))
    for row in _generated("product.csv", rows):
        assert 1 <= int(row[5].strip().rstrip("x")) <= 1000
    kinds = {int(row[0]): plan.kind(row[4]) for row in _rows(default["product.csv"])}
    styles = _generated("styles.csv", _rows(default["styles.csv"]))
    owner = {int(row[0]): int(row[1]) for row in styles}
    sale = sum(row[3] != "null" for row in styles)
    assert 0.05 * len(styles) < sale < 0.2 * len(styles)
    sizes: dict[str, set[str]] = defaultdict(set)
    for row in _generated("skus.csv", _rows(default["skus.csv"])):
        if int(row[1]) in owner:
            sizes[kinds[owner[int(row[1])]]].add(row[2])
    assert sizes["clothing"] == {"XS", "S", "M", "L", "XL", "XXL"}
    assert sizes["accessories"] == {"One Size"}
    assert sizes["shoes"] == {f"{n / 2:g}" for n in range(14, 27)}
    for row in _generated("photos.csv", _rows(default["photos.csv"])):
        assert row[2].startswith("https://images.unsplash.com/photo-") and "&w=300&" not in row[2]
        assert row[3].startswith("https://images.unsplash.com/photo-") and row[3].endswith("&w=300&q=80")


def test_no_random_defects_at_rate_zero(clean: dict[str, Path]) -> None:
    rows = {name: _rows(path) for name, path in clean.items()}
    products = {int(r[0]) for r in rows["product.csv"]}
    for name, path in clean.items():
        ids = [int(line.split(",", 1)[0]) for line in _lines(path)]
        generated = [i for i in ids if i not in REAL_IDS[name]]
        assert generated == sorted(generated) == list(range(generated[0], generated[0] + len(generated))), name
    features = defaultdict(list)
    for r in _generated("features.csv", rows["features.csv"]):
        features[int(r[1])].append(r[2])
    assert all(len(names) == len(set(names)) for names in features.values())
    assert set(features) <= products
    styles = defaultdict(list)
    for r in _generated("styles.csv", rows["styles.csv"]):
        styles[int(r[1])].append(r)
    generated_products = {p for p in products if p > 16}
    assert set(styles) == generated_products  # every product has styles
    for group in styles.values():
        assert len({r[2] for r in group}) == len(group)
        assert sum(r[5] == "1" for r in group) == 1
    style_ids = {int(r[0]) for r in rows["styles.csv"]}
    generated_styles = {int(r[0]) for r in _generated("styles.csv", rows["styles.csv"])}
    for name in ("photos.csv", "skus.csv"):
        owners = [int(r[1]) for r in _generated(name, rows[name])]
        assert set(owners) == generated_styles, name  # every style has photos and skus, no orphans
    skus = defaultdict(list)
    for r in _generated("skus.csv", rows["skus.csv"]):
        skus[r[1]].append(r[2])
    assert all(len(sizes) == len(set(sizes)) for sizes in skus.values())
    assert all(line.endswith('q=80"') for line in _lines(clean["photos.csv"])[len(legacy_lines("photos.csv")):])
    related = defaultdict(list)
    for r in _generated("related.csv", rows["related.csv"]):
        related[int(r[1])].append(int(r[2]))
    for product, targets in related.items():
        assert len(set(targets)) == len(targets) and product not in targets
        assert set(targets) <= products
    assert len(style_ids) == len(rows["styles.csv"])


def test_every_defect_form_is_produced(defective: dict[str, Path]) -> None:
    rows = {name: _rows(path) for name, path in defective.items()}
    lines = {name: _lines(path) for name, path in defective.items()}
    products = len(rows["product.csv"])
    last_style = max(int(r[0]) for r in rows["styles.csv"])

    def swapped(name: str) -> bool:
        ids = [int(line.split(",", 1)[0]) for line in lines[name][len(legacy_lines(name)):]]
        return any(b == a - 1 for a, b in zip(ids, ids[1:]))

    def spaced(values: list[str]) -> bool:
        return any(v != v.strip() and v.strip().isdigit() for v in values)

    def junk(values: list[str]) -> bool:
        return any(re.fullmatch(r"\d+x", v) for v in values)

    assert all(swapped(name) for name in FILES)
    product_rows = _generated("product.csv", rows["product.csv"])
    assert spaced([r[5] for r in product_rows])
    assert not junk([r[5] for r in product_rows])  # every product row stays loadable

    features = _generated("features.csv", rows["features.csv"])
    assert spaced([r[1] for r in features])
    assert any(r[1].strip().isdigit() and int(r[1]) > products for r in features)  # orphan
    valued = {"Fabric", "Buttons", "Lenses", "Lens", "Frames", "Frame", "Cut", "Sole", "Material", "Mid-Sole",
              "Stitching"}
    assert any(r[2] in valued and r[3] == "null" for r in features)
    per_product = Counter((r[1], r[2]) for r in features)
    assert max(per_product.values()) >= 2  # duplicated feature names

    styles = _generated("styles.csv", rows["styles.csv"])
    assert spaced([r[4] for r in styles]) and junk([r[4] for r in styles])
    assert any(r[5] == "2" for r in styles)
    by_product = defaultdict(list)
    for r in styles:
        by_product[int(r[1])].append(r)
    assert any(len({r[2] for r in group}) < len(group) for group in by_product.values())
    assert any(all(r[5] == "0" for r in group) for group in by_product.values())
    assert set(range(17, products + 1)) - set(by_product)  # products without styles

    photo_lines = lines["photos.csv"][len(legacy_lines("photos.csv")):]
    unterminated = [line for line in photo_lines if line.endswith("q=80")]
    assert unterminated and all(line.count('"') == 3 for line in unterminated)
    photos = _generated("photos.csv", rows["photos.csv"])
    assert spaced([r[1] for r in photos])
    assert any(r[1].strip().isdigit() and int(r[1]) > last_style for r in photos)
    skus = _generated("skus.csv", rows["skus.csv"])
    assert spaced([r[3] for r in skus]) and junk([r[3] for r in skus])
    assert any(r[1].strip().isdigit() and int(r[1]) > last_style for r in skus)
    assert max(Counter((r[1], r[2]) for r in skus).values()) >= 2  # duplicated sizes
    generated_styles = {r[0] for r in styles}
    assert generated_styles - {r[1] for r in photos}  # styles without photos
    assert generated_styles - {r[1] for r in skus}  # styles without skus

    related = _generated("related.csv", rows["related.csv"])
    assert any(r[2] == "0" for r in related)
    assert any(r[1] == r[2] for r in related)
    assert max(Counter((r[1], r[2]) for r in related).values()) >= 2
    assert spaced([r[2] for r in related])

    # still mostly loadable: junk, orphans and unterminated photos are rare
    assert len(unterminated) < 0.05 * len(photo_lines)


def test_default_rate_keeps_most_rows_clean(default: dict[str, Path]) -> None:
    for name, path in default.items():
        lines = _lines(path)[len(legacy_lines(name)):]
        bad = sum(not LINE[name].match(line) for line in lines)
        assert bad < 0.003 * len(lines), name


def test_same_arguments_give_identical_files(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a", scale=0.0125, defect_rate=0.01)
    options = GenerateOptions(out=tmp_path / "b", scale=0.0125, defect_rate=0.01)
    second = {p.name: p for p in generate(options, workers=1)}
    for name in FILES:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    other = _generate(tmp_path / "c", seed=2)
    assert other["product.csv"].read_bytes() != _generate(tmp_path / "d")["product.csv"].read_bytes()


def test_bom_crlf_copies(tmp_path: Path) -> None:
    paths = generate(GenerateOptions(out=tmp_path, scale=0.001, bom_crlf=True))
    copies = [p for p in paths if p.parent.name == "bom-crlf"]
    assert [p.name for p in copies] == list(FILES)
    for copy in copies:
        original = (tmp_path / copy.name).read_bytes()
        assert copy.read_bytes() == b"\xef\xbb\xbf" + original.replace(b"\n", b"\r\n")


def test_progress_bar_per_file(tmp_path: Path) -> None:
    screen = io.StringIO()  # not a terminal: plain lines, one as each file starts and one as it ends
    generate(GenerateOptions(out=tmp_path, scale=0.001, progress=Progress(stream_=screen)))
    finished = [line for line in screen.getvalue().split("\n") if " rows in " in line]
    assert len(finished) == len(FILES) and "\r" not in screen.getvalue()
    for name, line in zip(FILES, finished):
        rows = len(_lines(tmp_path / name))
        assert line.startswith(f"{name}: {rows:,} rows in ")
