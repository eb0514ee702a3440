"""Reviews endpoints: reads are one lookup of a precomputed row (reviews.listing, reviews.meta); writes
keep it exact in the same transaction (queries.py)."""

from __future__ import annotations

from ..core.http import CREATED, NO_CONTENT, HTTPError, Request, Response, Router, not_found, raw_json
from ..core.params import PG_INT_MAX, parse_id, parse_paging
from . import queries
from .validate import INVALID, review_from_request

router = Router()

INVALID_PRODUCT = "Error: invalid product_id provided"
INVALID_REVIEW = "Error: invalid review_id provided"
INVALID_SORT = "Error: invalid sort provided"

REVIEW_BODY = {
    "type": "object",
    "required": ["product_id", "rating", "body", "recommend", "name", "email"],
    "properties": {
        "product_id": {"type": "integer", "minimum": 1},
        "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        "summary": {"type": "string", "maxLength": 60},
        "body": {"type": "string", "minLength": 1, "maxLength": 1000},
        "recommend": {"type": "boolean"},
        "name": {"type": "string", "minLength": 1, "maxLength": 60},
        "email": {"type": "string", "format": "email", "maxLength": 60},
        "photos": {"type": "array", "maxItems": 5, "items": {"type": "string", "format": "uri"}},
        "characteristics": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5}},
    },
}


@router.get("/reviews", "A product's reviews, not reported ones, in one of three orders",
            params={"product_id": "the product (required)", "sort": "relevant (default), helpful or newest",
                    "page": "1-based page (default 1)", "count": "page size (default 5; clamped to the maximum)"})
async def list_reviews(request: Request) -> Response:
    query = request.query
    product_id = parse_id(query.get("product_id"), INVALID_PRODUCT)
    sort = query.get("sort") or "relevant"
    if sort not in queries.SORTS:
        raise HTTPError(422, INVALID_SORT)
    _, count, offset = parse_paging(query, request.app.settings.max_count)
    results = b""
    if offset < PG_INT_MAX:
        last = min(offset + min(count, request.app.settings.max_count), PG_INT_MAX)
        results = await queries.page(request.app, product_id, sort, offset + 1, last)
    return raw_json(b'{"product":"%d","page":%d,"count":%d,"results":[%s]}' % (product_id, offset, count, results))


@router.get("/reviews/meta", "Rating and recommendation counts and characteristic averages of a product",
            params={"product_id": "the product (required)"})
async def review_meta(request: Request) -> Response:
    product_id = parse_id(request.query.get("product_id"), INVALID_PRODUCT)
    return raw_json(await queries.meta(request.app, product_id))


@router.post("/reviews", "Add a review", body=REVIEW_BODY)
async def add_review(request: Request) -> Response:
    review = review_from_request(request)
    if await queries.add_review(request.app.writes(), review) is None:
        raise HTTPError(422, INVALID)
    await request.app.changed(review.product_id)
    return CREATED


@router.put("/reviews/{review_id}/helpful", "Add one to a review's helpfulness")
async def mark_helpful(request: Request) -> Response:
    review_id = parse_id(request.params["review_id"], INVALID_REVIEW)
    if not await queries.mark_helpful(request.app.writes(), review_id):
        raise not_found("review")
    return NO_CONTENT


@router.put("/reviews/{review_id}/report", "Hide a review from lists")
async def report(request: Request) -> Response:
    review_id = parse_id(request.params["review_id"], INVALID_REVIEW)
    if not await queries.report(request.app.writes(), review_id):
        raise not_found("review")
    return NO_CONTENT
