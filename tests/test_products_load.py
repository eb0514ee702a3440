"""The products loader on clean and on defective legacy input, against a real PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import SAMPLE, atelier, fetch

PRODUCTS = (
    "id,name,slogan,description,category,default_price\n"
    '1,"Camo Onesie","Blend in","Desc, with comma and ""quotes""","Jackets",140\n'
    '3,"Third","s","d","Pants", 40 \n'            # junk whitespace around a number: loaded
    '2,"Second","s","d","Kicks",69\n'             # swapped neighbouring ids: loaded
    '4,"Bad price","s","d","Pants",12x\n'          # junk number: rejected
    '2,"Duplicate","s","d","Pants",1\n'            # duplicate id: rejected
    '5,"Short row","s"\n'                          # wrong field count: rejected
    '6,"Multi\nline","s","d","Pants",7\n'          # a quoted field spanning two lines: loaded
)
FEATURES = (
    "id,product_id,feature,value\n"
    '1,1,"Fabric","Canvas"\n'
    '2,1,"Fabric","Canvas"\n'                      # duplicated feature: kept
    '3,2,"UV Protection",null\n'                   # null token: JSON null
    '4,0,"Orphan","x"\n'                           # feature of product 0: rejected
)
STYLES = (
    "id,productId,name,sale_price,original_price,default_style\n"
    '1,1,"Green",null,140,1\n'
    '2,1,"Green",100,140,0\n'                      # duplicated style name: kept
    '3,2,"Lonely",null,69,0\n'                     # no photos, no skus, product without default style
    '4,3,"Bad bool",null,40,2\n'                   # boolean outside its domain: rejected
    '5,99,"Orphan",null,1,1\n'                     # style of a missing product: rejected
)
PHOTOS = (
    "id,styleId,url,thumbnail_url\n"
    '1,1,"https://x/a?w=668&q=80","https://x/a?w=300&q=80"\n'
    '2,1,"https://x/b?w=668&q=80","https://x/b?w=300&q=80\n'   # unterminated quote: repaired
    '3,2,"https://x/c?w=668&q=80","https://x/c?w=300&q=80"\n'
    '4,7,"https://x/d","https://x/d"\n'                         # photo of a missing style: rejected
)
SKUS = (
    "id,styleId,size,quantity\n"
    '1,1,"XL",15\n'
    '2,1,"XL",4\n'                                 # duplicated size: kept
    '3,9,"S",1\n'                                  # sku of a missing style: rejected
)
RELATED = (
    "id,current_product_id,related_product_id\n"
    "1,1,2\n"
    "2,1,2\n"                                      # duplicate pair: kept
    "3,1,1\n"                                      # self reference: kept
    "4,1,0\n"                                      # dangling 0: rejected
    "5,2,77\n"                                     # related product missing: rejected
)


def write_defective(folder: Path, bom_crlf: bool = False) -> None:
    files = {"product.csv": PRODUCTS, "features.csv": FEATURES, "styles.csv": STYLES, "photos.csv": PHOTOS,
             "skus.csv": SKUS, "related.csv": RELATED}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        data = text.replace("\n", "\r\n").encode() if bom_crlf else text.encode()
        (folder / name).write_bytes((b"\xef\xbb\xbf" if bom_crlf else b"") + data)


def rejects(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(folder.glob("*.rejects.csv")):
        with open(path, newline="") as fh:
            out[path.name.removesuffix(".rejects.csv")] = list(csv.DictReader(fh))
    return out


def summary_counts(output: str) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, tuple[int, int, int]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 7 and parts[0].endswith(".csv") and parts[1] == "read":
            read, loaded, rejected = (int(parts[i].replace(",", "")) for i in (2, 4, 6))
            counts[parts[0]] = (read, loaded, rejected)
    return counts


def test_defective_input_every_row_loaded_or_rejected(tmp_path: Path, empty_db: str) -> None:
    data, rej = tmp_path / "data", tmp_path / "rejects"
    write_defective(data)
    result = atelier("load", "--data", str(data), "--rejects", str(rej), "--only", "products",
                     env={"DATABASE_URL": empty_db})
    counts = summary_counts(result.stdout)
    assert counts["product.csv"] == (7, 4, 3)
    assert counts["features.csv"] == (4, 3, 1)
    assert counts["styles.csv"] == (5, 3, 2)
    assert counts["photos.csv"] == (4, 3, 1)
    assert counts["skus.csv"] == (3, 2, 1)
    assert counts["related.csv"] == (5, 3, 2)
    for read, loaded, rejected in counts.values():
        assert read == loaded + rejected
    assert "repaired 1" in result.stdout

    found = rejects(rej)
    assert sum(len(v) for v in found.values()) == 10
    product_rejects = {r["line"]: r for r in found["product.csv"]}
    assert set(product_rejects) == {"5", "6", "7"}
    assert "default_price" in product_rejects["5"]["reason"] and product_rejects["5"]["raw"].endswith("12x")
    assert "duplicate id 2" in product_rejects["6"]["reason"]
    assert "expected 6 fields" in product_rejects["7"]["reason"]
    assert all(r["file"] == "product.csv" for r in found["product.csv"])
    assert "product_id 0" in found["features.csv"][0]["reason"]
    assert "default_style" in found["styles.csv"][0]["reason"]
    assert found["related.csv"][0]["line"] == "5" and "related_product_id 0" in found["related.csv"][0]["reason"]

    names = {r["id"]: r["name"] for r in fetch(empty_db, "SELECT id, name FROM products.product")}
    assert names == {1: "Camo Onesie", 2: "Second", 3: "Third", 6: "Multi\nline"}
    photo = fetch(empty_db, "SELECT thumbnail_url FROM products.photo WHERE id = 2")[0][0]
    assert photo == "https://x/b?w=300&q=80"


def test_loading_in_several_processes_gives_the_same_result(tmp_path: Path, empty_db: str) -> None:
    data = tmp_path / "data"
    write_defective(data)
    env = {"DATABASE_URL": empty_db}
    sequential = summary_counts(atelier("load", "--data", str(data), "--rejects", str(tmp_path / "r1"),
                                        "--only", "products", env=env).stdout)
    docs_sequential = fetch(empty_db, "SELECT product_id, position, styles, related FROM products.document ORDER BY 1")
    concurrent = summary_counts(atelier("load", "--data", str(data), "--rejects", str(tmp_path / "r2"),
                                        "--only", "products", env={**env, "ATELIER_LOAD_CONCURRENT_BYTES": "0"}).stdout)
    docs_concurrent = fetch(empty_db, "SELECT product_id, position, styles, related FROM products.document ORDER BY 1")
    assert sequential == concurrent
    assert docs_sequential == docs_concurrent
    assert rejects(tmp_path / "r1") == rejects(tmp_path / "r2")


def test_bom_crlf_copies_load_the_same(tmp_path: Path, empty_db: str) -> None:
    write_defective(tmp_path / "plain")
    write_defective(tmp_path / "bom", bom_crlf=True)
    plain = summary_counts(atelier("load", "--data", str(tmp_path / "plain"), "--only", "products",
                                   env={"DATABASE_URL": empty_db}).stdout)
    docs_plain = fetch(empty_db, "SELECT product_id, detail, styles, related FROM products.document ORDER BY 1")
    bom = summary_counts(atelier("load", "--data", str(tmp_path / "bom"), "--only", "products",
                                 env={"DATABASE_URL": empty_db}).stdout)
    docs_bom = fetch(empty_db, "SELECT product_id, detail, styles, related FROM products.document ORDER BY 1")
    assert plain == bom
    strip_times = lambda rows: [(r[0], r[1].split(b',"created_at"')[0], r[2], r[3]) for r in rows]  # noqa: E731
    assert strip_times(docs_plain) == strip_times(docs_bom)


def test_reload_is_idempotent(tmp_path: Path, empty_db: str) -> None:
    env = {"DATABASE_URL": empty_db}
    rejects_dir = str(tmp_path / "rejects")
    atelier("load", "--data", str(SAMPLE), "--rejects", rejects_dir, "--only", "products", env=env)
    tables = ["product", "feature", "style", "photo", "sku", "related"]
    first = {t: fetch(empty_db, f"SELECT * FROM products.{t} ORDER BY id") for t in tables}
    styles_first = fetch(empty_db, "SELECT product_id, styles, related FROM products.document ORDER BY 1")
    atelier("load", "--data", str(SAMPLE), "--rejects", rejects_dir, "--only", "products", env=env)
    second = {t: fetch(empty_db, f"SELECT * FROM products.{t} ORDER BY id") for t in tables}
    styles_second = fetch(empty_db, "SELECT product_id, styles, related FROM products.document ORDER BY 1")
    for t in tables:
        if t == "product":
            drop = lambda rows: [tuple(r)[:6] for r in rows]  # noqa: E731  (created_at is the load time)
            assert drop(first[t]) == drop(second[t])
        else:
            assert first[t] == second[t]
    assert styles_first == styles_second
    assert len(first["sku"]) == 435  # every sku row of the sample


def test_missing_files_skip_the_service(tmp_path: Path, empty_db: str) -> None:
    (tmp_path / "product.csv").write_text("id,name,slogan,description,category,default_price\n")
    result = atelier("load", "--data", str(tmp_path), "--only", "products", env={"DATABASE_URL": empty_db})
    assert "skipped" in result.stdout and "features.csv" in result.stdout
