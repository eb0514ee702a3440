"""Products endpoints: each answer is one lookup of a precomputed document (products.document)."""

from __future__ import annotations

from functools import lru_cache

import orjson

from ..core.batching import KeyedReader
from ..core.http import Request, Response, Router, not_found, raw_json
from ..core.params import PG_INT_MAX, parse_id, parse_paging

router = Router()

INVALID_ID = "Error: invalid product_id provided"

DOCUMENT = "SELECT {0} FROM products.document WHERE product_id = $1"
DOCUMENTS = "SELECT product_id, {0} FROM products.document WHERE product_id = ANY($1::int[])"
PAGE = "SELECT product_id, summary FROM products.document WHERE position > $1 ORDER BY position LIMIT $2"


@lru_cache(maxsize=8)
def _campus_json(campus: str) -> bytes:
    return orjson.dumps(campus)


def _head(request: Request, product_id: int) -> bytes:
    """`{"id":N,"campus":"…",` — the part of a product document that is not precomputed."""
    return b'{"id":%d,"campus":%s,' % (product_id, _campus_json(request.app.settings.campus))


def _reader(request: Request, column: str) -> KeyedReader:
    """One batching reader per document column and worker process."""
    readers = request.app.state.setdefault("products.readers", {})
    reader = readers.get(column)
    if reader is None:
        reader = readers[column] = KeyedReader(request.app.db(), DOCUMENTS.format(column), DOCUMENT.format(column))
    return reader


async def _document(request: Request, column: str) -> tuple[int, bytes]:
    product_id = parse_id(request.params["product_id"], INVALID_ID)
    body = await _reader(request, column).get(product_id)
    if body is None:
        raise not_found("product")
    return product_id, body


@router.get("/products", "List products by id",
            params={"page": "1-based page (default 1)", "count": "page size (default 5; clamped to the maximum)"})
async def list_products(request: Request) -> Response:
    _, count, offset = parse_paging(request.query, request.app.settings.max_count)
    if offset >= PG_INT_MAX:
        return raw_json(b"[]")
    rows = await request.app.db().fetch(PAGE, offset, min(count, request.app.settings.max_count))
    campus = _campus_json(request.app.settings.campus)
    return raw_json(b"[" + b",".join(b'{"id":%d,"campus":%s,%s' % (r[0], campus, r[1]) for r in rows) + b"]")


@router.get("/products/{product_id}", "One product with its features")
async def get_product(request: Request) -> Response:
    product_id, detail = await _document(request, "detail")
    return raw_json(_head(request, product_id) + detail)


@router.get("/products/{product_id}/styles", "A product's styles with photos and skus")
async def get_styles(request: Request) -> Response:
    _, styles = await _document(request, "styles")
    return raw_json(styles)


@router.get("/products/{product_id}/related", "Ids of related products")
async def get_related(request: Request) -> Response:
    _, related = await _document(request, "related")
    return raw_json(related)
