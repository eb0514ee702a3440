"""Products endpoints: HTTP only. Each answer is one lookup of a precomputed document (queries.py)."""

from __future__ import annotations

from functools import lru_cache

import orjson

from ..core.http import Request, Response, Router, not_found, raw_json
from ..core.params import paging
from . import contract, queries

router = Router()


@lru_cache(maxsize=8)
def _campus_json(campus: str) -> bytes:
    return orjson.dumps(campus)


async def _document(request: Request, column: str) -> tuple[int, bytes]:
    product_id = contract.PRODUCT_ID.read(request)
    body = await queries.document(request.app, column, product_id)
    if body is None:
        raise not_found("product")
    return product_id, body


@router.get("/products", contract.LIST)
async def list_products(request: Request) -> Response:
    _, offset, limit = paging(request)
    rows = await queries.page(request.app, offset, limit)
    campus = _campus_json(request.app.settings.campus)
    return raw_json(b"[" + b",".join(b'{"id":%d,"campus":%s,%s' % (pid, campus, summary) for pid, summary in rows)
                    + b"]")


@router.get("/products/{product_id}", contract.ONE)
async def get_product(request: Request) -> Response:
    product_id, detail = await _document(request, "detail")
    # `{"id":N,"campus":"…",`: the part of the document that is not precomputed (the campus is configuration)
    return raw_json(b'{"id":%d,"campus":%s,' % (product_id, _campus_json(request.app.settings.campus)) + detail)


@router.get("/products/{product_id}/styles", contract.STYLES_OF)
async def get_styles(request: Request) -> Response:
    _, styles = await _document(request, "styles")
    return raw_json(styles)


@router.get("/products/{product_id}/related", contract.RELATED)
async def get_related(request: Request) -> Response:
    _, related = await _document(request, "related")
    return raw_json(related)
