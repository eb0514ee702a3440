"""Reviews endpoints: HTTP only. Reads are one lookup of a precomputed row, writes one call of a
PL/pgSQL function (queries.py)."""

from __future__ import annotations

from ..core.http import CREATED, NO_CONTENT, HTTPError, Request, Response, Router, not_found, raw_json
from ..core.params import paging
from ..core.values import PG_INT_MAX
from . import contract, queries

router = Router()


@router.get("/reviews", contract.LIST)
async def list_reviews(request: Request) -> Response:
    product_id = contract.PRODUCT_ID.read(request)
    sort = contract.SORT.read(request)
    count, offset, limit = paging(request)
    results = b""
    if limit and offset < PG_INT_MAX:
        results = await queries.page(request.app, product_id, sort, offset + 1, min(offset + limit, PG_INT_MAX))
    return raw_json(b'{"product":"%d","page":%d,"count":%d,"results":[%s]}' % (product_id, offset, count, results))


@router.get("/reviews/meta", contract.META_OF)
async def review_meta(request: Request) -> Response:
    return raw_json(await queries.meta(request.app, contract.PRODUCT_ID.read(request)))


@router.post("/reviews", contract.ADD)
async def add_review(request: Request) -> Response:
    review = contract.REVIEW.read(request)
    if await queries.add_review(request.app.writes(), review) is None:
        raise HTTPError(422, contract.INVALID)
    await request.app.changed(review.product_id)
    return CREATED


@router.put("/reviews/{review_id}/helpful", contract.HELPFUL)
async def mark_helpful(request: Request) -> Response:
    product_id = await queries.mark_helpful(request.app.writes(), contract.REVIEW_ID.read(request))
    if product_id is None:
        raise not_found("review")
    await request.app.changed(product_id)
    return NO_CONTENT


@router.put("/reviews/{review_id}/report", contract.REPORT)
async def report(request: Request) -> Response:
    product_id = await queries.report(request.app.writes(), contract.REVIEW_ID.read(request))
    if product_id is None:
        raise not_found("review")
    await request.app.changed(product_id)
    return NO_CONTENT
