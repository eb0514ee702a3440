"""The reviews loader on clean and on defective legacy input, against a real PostgreSQL: every row
loaded or rejected (file, line, reason), counts that add up, an idempotent reload, documents
equal to a recomputation from the loaded tables, and the legacy meta oracle."""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from conftest import SAMPLE, atelier, create_database, drop_database, fetch

from atelier.reviews.documents import REBUILD_META, REBUILD_ORDERS, UPSERT_DOCUMENT

PRODUCT_FILES = {
    "product.csv": "id,name,slogan,description,category,default_price\n"
                   + "".join(f'{i},"P{i}","s","d","Pants",10\n' for i in range(1, 5)),
    "features.csv": "id,product_id,feature,value\n",
    "styles.csv": "id,productId,name,sale_price,original_price,default_style\n",
    "photos.csv": "id,styleId,url,thumbnail_url\n",
    "skus.csv": "id,styleId,size,quantity\n",
    "related.csv": "id,current_product_id,related_product_id\n",
}
REVIEWS = (
    "id,product_id,rating,date,summary,body,recommend,reported,reviewer_name,reviewer_email,response,helpfulness\n"
    '1,1,5,1596080481467,"Great, ""really""","Body, with comma",true,false,"funtime","a@b.com",null,8\n'
    '3,1, 4 ,1610178433963,"s","b",false,false,"n","e@x.com","Thanks!", 2\n'   # whitespace: loaded
    '2,2,4,1609325851021,"s","b",true,false,"n","e@x.com",null,5\n'            # swapped ids: loaded
    '4,0,5,1596080481467,"s","b",true,false,"n","e@x.com",null,0\n'            # product 0: rejected
    '5,1,4x,1596080481467,"s","b",true,false,"n","e@x.com",null,0\n'           # junk rating: rejected
    '6,1,4,1596080481467,"s","b",yes,false,"n","e@x.com",null,0\n'             # bad boolean: rejected
    '7,1,6,1596080481467,"s","b",true,false,"n","e@x.com",null,0\n'            # rating 6: rejected
    '2,1,3,1596080481467,"s","b",true,false,"n","e@x.com",null,0\n'            # duplicate id: rejected
    '8,3,2,1593564521722,"s","b",true,true,"n","e@x.com",null,0\n'             # reported: loaded
    '9,99,3,1593564521722,"s","b",true,false,"n","e@x.com",null,0\n'           # missing product: rejected
    '10,1,3,1596080481467,"Multi\nline","b",true,false,"n","e@x.com",null,1\n'  # quoted newline: loaded
    '11,1,3,1596080481467,"short row"\n'                                       # 5 fields: rejected
    '12,1,2,-1x,"s","b",true,false,"n","e@x.com",null,0\n'                      # junk date: rejected
)
PHOTOS = (
    "id,review_id,url\n"
    '1,1,"https://x/1.jpg"\n'
    '3,1,"https://x/3.jpg"\n'          # out of id order: listed by id
    '2,1,"https://x/2.jpg"\n'
    '4,4,"https://x/orphan.jpg"\n'     # photo of a rejected review: rejected
    '5,77,"https://x/77.jpg"\n'        # missing review: rejected
    '6,1x,"https://x/6.jpg"\n'         # junk id: rejected
    '7,2,"https://x/7.jpg?q=80\n'      # unterminated quote: repaired, loaded
    '8,2,"https://x/8.jpg"\n'
)
CHARACTERISTICS = (
    "id,product_id,name\n"
    '1,1,"Fit"\n2,1,"Length"\n3,3,"Quality"\n'
    '4,0,"Fit"\n'                      # product 0: rejected
    '5,4,"Quality"\n'                  # product without reviews: meta value null
)
CHARACTERISTIC_REVIEWS = (
    "id,characteristic_id,review_id,value\n"
    "1,1,1,4\n2,2,1,3\n3,1,3,5\n4,2,3,4\n5,1,10,4\n"
    "6,2,10,4x\n"                      # junk value: rejected
    "7,1,4,5\n"                        # rejected review: rejected
    "8,9,1,3\n"                        # missing characteristic: rejected
    "9,2,10,0\n"                       # value 0: rejected
    "10,3,8,2\n"                       # reported review: counted in meta
    "11,2,10, 5\n"                     # whitespace: loaded
)
FILES = {"reviews.csv": REVIEWS, "reviews_photos.csv": PHOTOS, "characteristics.csv": CHARACTERISTICS,
         "characteristic_reviews.csv": CHARACTERISTIC_REVIEWS}
COUNTS = {  # read, loaded, rejected
    "reviews.csv": (13, 5, 8), "reviews_photos.csv": (8, 5, 3), "characteristics.csv": (5, 4, 1),
    "characteristic_reviews.csv": (11, 7, 4),
}
REJECTED_LINES = {
    "reviews.csv": {"5": "product_id 0", "6": "rating", "7": "recommend", "8": "rating", "9": "duplicate id 2",
                    "11": "product_id 99", "14": "expected 12 fields", "15": "date"},
    "reviews_photos.csv": {"5": "review_id 4", "6": "review_id 77", "7": "review_id"},
    "characteristics.csv": {"5": "product_id 0"},
    "characteristic_reviews.csv": {"7": "value", "8": "review_id 4", "9": "characteristic_id 9", "10": "value"},
}


def write_files(folder: Path, files: dict[str, str], bom_crlf: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        data = text.replace("\n", "\r\n").encode() if bom_crlf else text.encode()
        (folder / name).write_bytes((b"\xef\xbb\xbf" if bom_crlf else b"") + data)


def rejects(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(folder.glob("*.rejects.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            out[path.name.removesuffix(".rejects.csv")] = list(csv.DictReader(fh))
    return out


def summary_counts(output: str) -> dict[str, tuple[int, ...]]:
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0].endswith(".csv") and parts[1] == "read":
            counts[parts[0]] = tuple(int(parts[i].replace(",", "")) for i in (2, 4, 6))
    return counts


TABLES = ("review", "photo", "characteristic", "characteristic_review", "characteristic_total", "meta", "listing",
          "review_document")


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    return {t: [tuple(r) for r in fetch(url, f"SELECT * FROM reviews.{t} ORDER BY 1")] for t in TABLES}


def load(url: str, data: Path, rejects_dir: Path, *only: str) -> str:
    args = ["load", "--data", str(data), "--rejects", str(rejects_dir)] + (["--only", *only] if only else [])
    return atelier(*args, env={"DATABASE_URL": url}).stdout


# --- an oracle for meta and the lists, straight from the loaded rows ----------------------------

def exact_average(values: list[int]) -> str | None:
    """The mean as a 16-decimal string, rounded half up (Decimal with ample precision)."""
    if not values:
        return None
    with localcontext(Context(prec=100)):
        return str((Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("1e-16"), rounding=ROUND_HALF_UP))


def expected_meta(url: str) -> dict[int, dict[str, Any]]:
    """Every product's meta recomputed from review, characteristic and characteristic_review."""
    metas: dict[int, dict[str, Any]] = defaultdict(lambda: {"ratings": {}, "recommended": {}, "characteristics": {}})
    for product_id, rating, recommend, n in fetch(
            url, "SELECT product_id, rating, recommend, count(*) FROM reviews.review GROUP BY 1, 2, 3 ORDER BY 2, 3"):
        m = metas[product_id]
        m["ratings"][str(rating)] = str(int(m["ratings"].get(str(rating), "0")) + n)
        key = "true" if recommend else "false"
        m["recommended"][key] = str(int(m["recommended"].get(key, "0")) + n)
    values: dict[int, list[int]] = defaultdict(list)
    for characteristic_id, value in fetch(url, "SELECT characteristic_id, value FROM reviews.characteristic_review"):
        values[characteristic_id].append(value)
    for cid, product_id, name in fetch(url, "SELECT id, product_id, name FROM reviews.characteristic ORDER BY id"):
        metas[product_id]["characteristics"][name] = {"id": cid, "value": exact_average(values[cid])}
    return {pid: {"product_id": str(pid), "ratings": dict(sorted(m["ratings"].items())),
                  "recommended": dict(sorted(m["recommended"].items())), "characteristics": m["characteristics"]}
            for pid, m in metas.items()}


def stored_meta(url: str) -> dict[int, Any]:
    return {r[0]: orjson.loads(r[1]) for r in fetch(url, "SELECT product_id, document FROM reviews.meta")}


def test_exact_average_oracle() -> None:
    assert exact_average([4, 3, 4]) == "3.6666666666666667"
    assert exact_average([3, 4]) == "3.5000000000000000"
    assert exact_average([1, 1, 2]) == "1.3333333333333333"
    assert exact_average([]) is None


# --- defective input -----------------------------------------------------------------------------

@pytest.mark.parametrize("bom_crlf", [False, True], ids=["lf", "bom-crlf"])
def test_defective_input_every_row_loaded_or_rejected(tmp_path: Path, empty_db: str, bom_crlf: bool) -> None:
    data, rej = tmp_path / "data", tmp_path / "rejects"
    write_files(data, PRODUCT_FILES)
    write_files(data, FILES, bom_crlf)
    output = load(empty_db, data, rej)
    counts = summary_counts(output)
    for name, expected in COUNTS.items():
        assert counts[name] == expected, name
        read, loaded, rejected = counts[name]
        assert read == loaded + rejected
    assert "repaired 1" in output

    found = rejects(rej)
    for name, lines in REJECTED_LINES.items():
        rows = found[name]
        assert {r["line"] for r in rows} == set(lines), name
        for row in rows:
            assert row["file"] == name
            assert lines[row["line"]] in row["reason"], row
            assert row["raw"].split(",")[0].strip() in FILES[name]
    assert "references no products.product row" in next(r for r in found["reviews.csv"] if r["line"] == "5")["reason"]

    assert [r[0] for r in fetch(empty_db, "SELECT id FROM reviews.review ORDER BY id")] == [1, 2, 3, 8, 10]
    review_1 = fetch(empty_db, "SELECT summary, body, response FROM reviews.review WHERE id = 1")[0]
    assert tuple(review_1) == ('Great, "really"', "Body, with comma", None)
    assert fetch(empty_db, "SELECT summary FROM reviews.review WHERE id = 10")[0][0] == "Multi\nline"
    assert [tuple(r) for r in fetch(empty_db, "SELECT id, url FROM reviews.photo WHERE review_id = 2 ORDER BY id")] \
        == [(7, "https://x/7.jpg?q=80"), (8, "https://x/8.jpg")]

    metas = stored_meta(empty_db)
    assert metas == expected_meta(empty_db)
    assert metas[1] == {"product_id": "1", "ratings": {"3": "1", "4": "1", "5": "1"},
                        "recommended": {"false": "1", "true": "2"},
                        "characteristics": {"Fit": {"id": 1, "value": "4.3333333333333333"},   # 4, 5, 4
                                            "Length": {"id": 2, "value": "4.0000000000000000"}}}  # 3, 4, 5
    assert metas[3]["characteristics"] == {"Quality": {"id": 3, "value": "2.0000000000000000"}}  # reported counted
    assert metas[4] == {"product_id": "4", "ratings": {}, "recommended": {},
                        "characteristics": {"Quality": {"id": 5, "value": None}}}

    assert fetch(empty_db, "SELECT relevant FROM reviews.listing WHERE product_id = 1")[0][0] == [1, 3, 10]  # 8, 2, 1
    documents = {r[0]: orjson.loads(r[1]) for r in fetch(empty_db, "SELECT * FROM reviews.review_document")}
    assert documents[1]["review_id"] == 1 and [p["id"] for p in documents[1]["photos"]] == [1, 2, 3]
    assert fetch(empty_db, "SELECT 1 FROM reviews.listing WHERE product_id = 3") == []  # reported only
    reported = {r[0] for r in fetch(empty_db, "SELECT id FROM reviews.review WHERE reported")}
    assert reported and not reported & set(documents)


def test_reload_is_idempotent(tmp_path: Path, empty_db: str) -> None:
    data = tmp_path / "data"
    write_files(data, PRODUCT_FILES)
    write_files(data, FILES)
    load(empty_db, data, tmp_path / "r1")
    first = snapshot(empty_db)
    second_output = load(empty_db, data, tmp_path / "r2", "reviews")  # products stay; reviews replaced
    assert snapshot(empty_db) == first
    assert summary_counts(second_output) == COUNTS
    assert rejects(tmp_path / "r1") == rejects(tmp_path / "r2")


def test_ids_continue_after_the_load(tmp_path: Path, empty_db: str) -> None:
    data = tmp_path / "data"
    write_files(data, PRODUCT_FILES)
    write_files(data, FILES)
    load(empty_db, data, tmp_path / "r")
    for table, loaded_max in (("review", 10), ("photo", 8), ("characteristic_review", 11)):
        assert fetch(empty_db, f"SELECT nextval(pg_get_serial_sequence('reviews.{table}', 'id'))")[0][0] \
            == loaded_max + 1


def test_reviews_without_products_table_is_a_clear_error(tmp_path: Path, empty_db: str) -> None:
    write_files(tmp_path / "data", FILES)
    result = atelier("load", "--data", str(tmp_path / "data"), "--only", "reviews", env={"DATABASE_URL": empty_db},
                     check=False)
    assert result.returncode != 0 and "load products first" in result.stderr + result.stdout


# --- the legacy sample, completed with the characteristic reviews it lacks -----------------------

# Characteristic reviews 20-25 of reviews 9 and 10 (the sample stops at 19), as the generator
# fills them: with them product 4 averages 11/3 on each of its characteristics, the legacy oracle.
ORACLE_ROWS = "20,12,9,4\n21,13,9,5\n22,10,10,5\n23,11,10,5\n24,12,10,5\n25,13,10,5\n"


def test_legacy_meta_oracle(tmp_path: Path, empty_db: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    with open(data / "characteristic_reviews.csv", "a", encoding="utf-8") as fh:
        fh.write("\n" + ORACLE_ROWS)  # the sample's last line has no newline
    load(empty_db, data, tmp_path / "rejects")
    metas = stored_meta(empty_db)
    assert metas[4]["ratings"] == {"2": "1", "4": "1", "5": "1"}
    assert metas[4]["recommended"] == {"false": "1", "true": "2"}
    assert {name: c["value"] for name, c in metas[4]["characteristics"].items()} == \
        {"Fit": "3.6666666666666667", "Length": "3.6666666666666667", "Comfort": "3.6666666666666667",
         "Quality": "3.6666666666666667"}
    assert [c["id"] for c in metas[4]["characteristics"].values()] == [10, 11, 12, 13]
    assert metas[3] == {"product_id": "3", "ratings": {}, "recommended": {},
                        "characteristics": {n: {"id": i, "value": None}
                                            for n, i in (("Fit", 6), ("Length", 7), ("Comfort", 8), ("Quality", 9))}}
    assert metas[1]["characteristics"]["Fit"]["value"] == "4.0000000000000000"
    assert metas[1]["characteristics"]["Length"]["value"] == "3.5000000000000000"
    assert metas == expected_meta(empty_db)


# --- a generated data set with defects -----------------------------------------------------------

@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    data = tmp_path_factory.mktemp("generated")
    atelier("generate", "--out", str(data), "--scale", "0.001", "--defect-rate", "0.02", "--quiet",
            "--only", "products", "reviews")
    url = create_database("atelier_reviews_gen")
    try:
        yield data, url, load(url, data, data / "rejects")
    finally:
        drop_database(url)


def test_generated_counts_add_up_and_every_reject_is_accounted(generated: tuple[Path, str, str]) -> None:
    data, url, output = generated
    counts = summary_counts(output)
    found = rejects(data / "rejects")
    for name in FILES:
        read, loaded, rejected = counts[name]
        assert read == loaded + rejected
        with open(data / name, encoding="utf-8") as fh:
            assert read == sum(1 for _ in fh) - 1  # no quoted newlines in generated files
        assert len(found.get(name, [])) == rejected
        assert all(r["file"] == name and r["line"].isdigit() and r["reason"] for r in found.get(name, []))
        table = {"reviews.csv": "review", "reviews_photos.csv": "photo", "characteristics.csv": "characteristic",
                 "characteristic_reviews.csv": "characteristic_review"}[name]
        assert fetch(url, f"SELECT count(*) FROM reviews.{table}")[0][0] == loaded
    assert counts["reviews.csv"][2] > 0 and counts["characteristic_reviews.csv"][2] > 0


PARENT_FILES = {"products.product": "product.csv", "reviews.review": "reviews.csv",
                "reviews.characteristic": "characteristics.csv"}


def test_generated_rejects_are_only_the_defects(generated: tuple[Path, str, str]) -> None:
    """Only the generator's invalid forms are rejected (generate.py): an orphan points at id 0, past
    the parent file's last id, or at a parent row that was itself rejected; junk numbers end in
    `x`; booleans are `yes`/`no`. No valid row is lost."""
    data, _, _ = generated
    found = rejects(data / "rejects")

    def first_ids(rows: list[dict[str, str]]) -> set[int]:
        return {int(r["raw"].split(",")[0]) for r in rows if r["raw"].split(",")[0].strip().isdigit()}

    last_id = {}
    for name, file in PARENT_FILES.items():
        with open(data / file, encoding="utf-8") as fh:
            next(fh)
            last_id[name] = max(int(line.split(",")[0]) for line in fh)
    rejected_parents = {name: first_ids(found.get(file, [])) for name, file in PARENT_FILES.items()}
    orphan = re.compile(r"^\w+ (-?\d+) references no (\S+) row$")
    junk = re.compile(r"^\w+: not an integer: '\d+x'$")
    boolean = re.compile(r"^\w+: not true/false: '(yes|no)'$")
    for name in FILES:
        for row in found.get(name, []):
            reason = row["reason"]
            if m := orphan.match(reason):
                ref, parent = int(m[1]), m[2]
                assert ref == 0 or ref > last_id[parent] or ref in rejected_parents[parent], row
            else:
                assert junk.match(reason) or boolean.match(reason), row


def test_generated_meta_equals_recomputation(generated: tuple[Path, str, str]) -> None:
    _, url, _ = generated
    assert stored_meta(url) == expected_meta(url)
    # the generator fills the legacy head rows so that the oracle holds
    assert {c["value"] for c in stored_meta(url)[4]["characteristics"].values()} == {"3.6666666666666667"}


def test_generated_lists_are_the_orders_of_the_contract(generated: tuple[Path, str, str]) -> None:
    _, url, _ = generated
    rows = fetch(url, """SELECT id, product_id, helpfulness, (date AT TIME ZONE 'UTC')::date AS day
                         FROM reviews.review WHERE NOT reported""")
    by_product: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for r in rows:
        by_product[r["product_id"]].append(r)
    orders = {
        "relevant": lambda r: (-r["helpfulness"], -r["day"].toordinal(), r["id"]),
        "helpful": lambda r: (-r["helpfulness"], r["id"]),
        "newest": lambda r: (-r["day"].toordinal(), -r["id"]),
    }
    listings = {r["product_id"]: r for r in fetch(url, "SELECT * FROM reviews.listing")}
    assert set(listings) == set(by_product)
    for product_id, reviews in by_product.items():
        for sort, key in orders.items():
            assert listings[product_id][sort] == [r["id"] for r in sorted(reviews, key=key)], (product_id, sort)
    documents = {r[0]: orjson.loads(r[1]) for r in fetch(url, "SELECT * FROM reviews.review_document")}
    assert set(documents) == {r["id"] for r in rows}
    assert all(d["review_id"] == review_id for review_id, d in documents.items())


def bind(sql: str, parameter: str, value: str) -> str:
    return sql.replace("{s}", "reviews").replace(parameter, value)


def test_write_path_rebuild_equals_bulk_build(generated: tuple[Path, str, str]) -> None:
    """The per-review and per-product refreshes writes run give the very bytes of the bulk build."""
    _, url, _ = generated

    async def go() -> tuple[list[Any], list[Any]]:
        conn = await asyncpg.connect(url)
        try:
            dumps = ["SELECT m.product_id, m.document, l.relevant, l.helpful, l.newest "
                     "FROM reviews.meta m LEFT JOIN reviews.listing l USING (product_id) ORDER BY 1",
                     "SELECT * FROM reviews.review_document ORDER BY 1"]
            bulk = [[tuple(r) for r in await conn.fetch(dump)] for dump in dumps]
            tr = conn.transaction()
            await tr.start()
            await conn.execute("UPDATE reviews.review_document SET document = ''")
            for (review_id,) in await conn.fetch("SELECT id FROM reviews.review"):
                await conn.execute(bind(UPSERT_DOCUMENT, "{review}", "$1"), review_id)
            for (product_id,) in await conn.fetch("SELECT product_id FROM reviews.meta"):
                await conn.execute(bind(f"WITH orders AS ({REBUILD_ORDERS}) {REBUILD_META}", "{product}", "$1"),
                                   product_id)
            rebuilt = [[tuple(r) for r in await conn.fetch(dump)] for dump in dumps]
            await tr.rollback()
            return bulk, rebuilt
        finally:
            await conn.close()

    (bulk_listings, bulk_documents), (listings, documents) = asyncio.run(go())
    assert documents == bulk_documents
    # rebuilding gives a product without listed reviews an empty listing row instead of none
    assert [r if r[2] != [] else r[:2] + (None, None, None) for r in listings] == bulk_listings
