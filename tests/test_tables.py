"""The table declarations and the service manifests, in-process: the DDL, the COPY columns, the
legacy headers and aliases derived from each declaration, and the load order and checks derived
from the services' dependencies. No database: these point at one function when they fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atelier.cart.tables import CART
from atelier.core.http import Router
from atelier.core.loading.parsers import positive_id, reference, text
from atelier.core.manifest import Service, ServiceError, dependency_levels
from atelier.core.tables import Column, Table, csv_headers
from atelier.products.tables import DOCUMENT, PHOTO, PRODUCT, SKU, STYLE
from atelier.qa.tables import PRODUCT_DOCUMENT, QUESTION
from atelier.reviews.tables import CHARACTERISTIC_REVIEW, REVIEW
from atelier.services import all_services, by_names

# The header line of every legacy file, as legacy-csv.md and the real files spell it.
LEGACY_HEADERS = {
    "product.csv": "id,name,slogan,description,category,default_price",
    "features.csv": "id,product_id,feature,value",
    "styles.csv": "id,productId,name,sale_price,original_price,default_style",
    "photos.csv": "id,styleId,url,thumbnail_url",
    "skus.csv": "id,styleId,size,quantity",
    "related.csv": "id,current_product_id,related_product_id",
    "reviews.csv": "id,product_id,rating,date,summary,body,recommend,reported,reviewer_name,reviewer_email,"
                   "response,helpfulness",
    "reviews_photos.csv": "id,review_id,url",
    "characteristics.csv": "id,product_id,name",
    "characteristic_reviews.csv": "id,characteristic_id,review_id,value",
    "questions.csv": "id,product_id,body,date_written,asker_name,asker_email,reported,helpful",
    "answers.csv": "id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful",
    "answers_photos.csv": "id,answer_id,url",
    "cart.csv": "id,user_session,product_id,active",
}
SAMPLE = Path(__file__).resolve().parent.parent / "atelier" / "legacy_sample"


def tables() -> list[Table]:
    return [t for service in all_services() for t in service.tables]


def test_every_legacy_file_is_declared_once_with_its_legacy_header() -> None:
    assert csv_headers(tables()) == LEGACY_HEADERS
    files = [t.file for t in tables() if t.file]
    assert len(files) == len(set(files)) == 14


def test_declared_headers_are_those_of_the_real_sample_files() -> None:
    samples = sorted(SAMPLE.glob("*.csv"))
    assert len(samples) == 11  # the legacy sample has no answers, answer photos or carts
    for path in samples:
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == csv_headers(tables())[path.name], path.name


def test_ddl_of_a_loaded_table() -> None:
    assert PRODUCT.create_sql("products__load") == [
        "CREATE TABLE products__load.product (id integer NOT NULL, name text NOT NULL, slogan text, "
        "description text, category text, default_price integer NOT NULL, "
        "created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())"]
    assert PRODUCT.key_sql("s") == ["ALTER TABLE s.product ADD PRIMARY KEY (id)"]
    assert PRODUCT.index_sql("s") == []


def test_ddl_with_storage_parameters_and_column_storage() -> None:
    assert PRODUCT_DOCUMENT.create_sql("qa") == [
        "CREATE TABLE qa.product_document (product_id integer NOT NULL, questions bytea[] NOT NULL) "
        "WITH (toast_tuple_target = 8160)",
        "ALTER TABLE qa.product_document ALTER questions SET STORAGE EXTERNAL"]
    assert PRODUCT_DOCUMENT.keys_and_indexes_sql("qa") == [
        "ALTER TABLE qa.product_document ADD PRIMARY KEY (product_id)"]


def test_keys_and_indexes() -> None:
    assert DOCUMENT.keys_and_indexes_sql("s") == [
        "ALTER TABLE s.document ADD PRIMARY KEY (product_id)",
        "CREATE UNIQUE INDEX ON s.document (position) INCLUDE (product_id)"]
    assert PHOTO.keys_and_indexes_sql("s") == ["CREATE INDEX ON s.photo (style_id, id)"]  # no primary key
    assert QUESTION.index_sql("s") == ["CREATE INDEX ON s.question (product_id, helpful DESC, id)"]


def test_identities_restart_after_the_largest_loaded_id() -> None:
    assert REVIEW.identity_restart_sql("r") == [
        "SELECT setval(pg_get_serial_sequence('r.review', 'id'), "
        "(SELECT coalesce(max(id), 0) + 1 FROM r.review), false)"]
    assert PRODUCT.identity_restart_sql("p") == []


def test_file_spec_copies_the_file_columns_in_order_with_parents_and_aliases() -> None:
    spec = STYLE.file_spec()
    assert (spec.file, spec.table, spec.key, spec.repair_unterminated) == ("styles.csv", "style", "id", False)
    assert spec.header == ["id", "product_id", "name", "sale_price", "original_price", "default_style"]
    assert spec.aliases == {"productId": "product_id"}
    assert [c.parent for c in spec.columns] == [None, "products.product", None, None, None, None]
    assert PHOTO.file_spec().repair_unterminated
    cart = CART.file_spec()
    assert cart.header == ["id", "user_session", "sku_id", "active"]  # the COPY columns
    assert cart.aliases == {"product_id": "sku_id"}
    assert cart.columns[2].parent == "products.sku"
    assert [c.parent for c in CHARACTERISTIC_REVIEW.file_spec().columns] == [
        None, "reviews.characteristic", "reviews.review", None]


def test_file_spec_leaves_out_the_columns_the_file_does_not_hold() -> None:
    assert PRODUCT.file_spec().header == ["id", "name", "slogan", "description", "category", "default_price"]
    with pytest.raises(ValueError, match="loads no file"):
        DOCUMENT.file_spec()


def test_a_table_is_named_live_or_in_a_schema() -> None:
    assert str(SKU) == "products.sku" and f"SELECT id FROM {SKU}" == "SELECT id FROM products.sku"
    assert SKU.at("products__load") == "products__load.sku"


def test_the_file_columns_come_first() -> None:
    with pytest.raises(ValueError, match="come first"):
        Table("x", "t", (Column("note", "text"), Column("id", "integer", positive_id)), file="t.csv")
    with pytest.raises(ValueError, match="loads no file"):
        Table("x", "t", (Column("id", "integer", positive_id),))


def test_every_service_declares_its_own_tables_and_what_it_reads() -> None:
    services = {s.name: s for s in all_services()}
    for service in services.values():
        for table in service.parent_tables:
            owner = services[table.schema]
            assert owner.name in service.depends_on
            assert table in owner.exposes, f"{service.name} reads {table}, which {owner.name} does not expose"
    assert services["reviews"].parent_tables == (PRODUCT,)
    assert services["cart"].parent_tables == (SKU,)
    assert services["products"].files == tuple(f for f in LEGACY_HEADERS if f in services["products"].files)


def test_a_service_must_declare_the_services_it_reads() -> None:
    child = Table("child", "row", (Column("id", "integer", positive_id),
                                   Column("parent_id", "integer", reference, parent=PRODUCT)), file="rows.csv")
    with pytest.raises(ServiceError, match="does not depend"):
        Service("child", Router(), (child,))
    assert Service("child", Router(), (child,), depends_on=("products",)).parent_tables == (PRODUCT,)
    with pytest.raises(ServiceError, match="tables of other services"):
        Service("other", Router(), (child,), depends_on=("products",))


def _service(name: str, *depends_on: str) -> Service:
    return Service(name, Router(), (Table(name, "t", (Column("id", "integer", text),), file=f"{name}.csv"),),
                   depends_on=depends_on)


def test_load_order_comes_in_levels_of_services_that_may_load_side_by_side() -> None:
    levels = dependency_levels(all_services())
    assert [[s.name for s in level] for level in levels] == [["products", "interactions"], ["reviews", "qa", "cart"]]
    chain = [_service("c", "b"), _service("b", "a"), _service("a"), _service("d", "a")]
    assert [[s.name for s in level] for level in dependency_levels(chain)] == [["a"], ["b", "d"], ["c"]]


def test_dependencies_not_asked_for_are_taken_as_loaded() -> None:
    assert [[s.name for s in level] for level in dependency_levels(by_names(["cart", "qa"]))] == [["qa", "cart"]]


def test_services_that_depend_on_each_other_are_an_error() -> None:
    with pytest.raises(ServiceError, match="depend on each other"):
        dependency_levels([_service("a", "b"), _service("b", "a")])


def test_unknown_service_names_are_an_error() -> None:
    with pytest.raises(ServiceError, match="unknown service"):
        by_names(["products", "inventory"])


@pytest.mark.parametrize("service", ["products", "reviews", "qa"])
def test_the_documents_sql_names_only_declared_tables(service: str) -> None:
    module = __import__(f"atelier.{service}.documents", fromlist=["documents"])
    sql = " ".join(v for k, v in vars(module).items() if isinstance(v, str) and not k.startswith("__"))
    named = set(re.findall(r"\{s\}\.(\w+)", sql)) | set(re.findall(rf"\b{service}\.(\w+)", sql))
    declared = {t.name for t in by_names([service])[0].tables}
    assert named and named <= declared, named - declared
