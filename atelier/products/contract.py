"""The products endpoints' part of the contract: parameters and answers (api.md, "Products")."""

from __future__ import annotations

from ..core.operations import Operation, json_answer
from ..core.params import COUNT, PAGE, path_id
from ..core.schemas import BOOLEAN, DATE, DECIMAL_ID, INTEGER, MONEY, STRING, array, nullable, record

PRODUCT_ID = path_id("product_id", "Error: invalid product_id provided", "product", 1)

_FIELDS = {"id": INTEGER, "campus": STRING, "name": STRING, "slogan": nullable(STRING),
           "description": nullable(STRING), "category": nullable(STRING), "default_price": MONEY,
           "created_at": DATE, "updated_at": DATE}
SUMMARY = record(**_FIELDS)
DETAIL = record(**_FIELDS, features=array(record(feature=STRING, value=nullable(STRING))))
STYLE = record(style_id=INTEGER, name=STRING, original_price=MONEY, sale_price=nullable(MONEY),
               **{"default?": BOOLEAN},
               photos=array(record(thumbnail_url=nullable(STRING), url=nullable(STRING))),
               skus={"type": "object",
                     "additionalProperties": record(quantity=nullable(INTEGER), size=nullable(STRING))})
STYLES = record(product_id=DECIMAL_ID, results=array(STYLE))

LIST = Operation(
    "List products by id", json_answer(200, "A page of products, by id", array(SUMMARY)),
    params=(PAGE, COUNT), tags=("products",),
    description="Paging is by position in id order: `/products?page=100002&count=10` on the full data set is "
                "exactly product 1000011.")
ONE = Operation("One product with its features", json_answer(200, "The product", DETAIL),
                params=(PRODUCT_ID,), not_found="product", tags=("products",))
STYLES_OF = Operation("A product's styles with photos and skus", json_answer(200, "The styles, by style id", STYLES),
                      params=(PRODUCT_ID,), not_found="product", tags=("products",),
                      description='A style without photos has `[{"thumbnail_url": null, "url": null}]`; one without '
                                  'skus has `{"null": {"quantity": null, "size": null}}` (legacy).')
RELATED = Operation("Ids of related products", json_answer(200, "Related product ids, duplicates kept", array(INTEGER)),
                    params=(PRODUCT_ID,), not_found="product", tags=("products",))
