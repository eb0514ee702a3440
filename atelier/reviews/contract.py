"""The reviews endpoints' part of the contract: parameters, the POST body and the answers
(api.md, "Reviews"). The body declaration is both the validation and the OpenAPI schema."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.bodies import JsonBody
from ..core.operations import CREATED, NO_CONTENT, Operation, json_answer
from ..core.params import COUNT, ID, PAGE, Param, path_id, product_id_query
from ..core.schemas import BOOLEAN, DAY, DECIMAL_ID, INTEGER, STRING, array, nullable, record
from ..core.values import Boolean, Integer, Keyword, ListOf, MapOf, Object, Optional, Text, email, url

INVALID = "Error: Review body contains invalid entries"
SORTS = ("relevant", "helpful", "newest")

PRODUCT_ID = product_id_query()
SORT = Param("sort", "query", Keyword(SORTS, "relevant"), "",
             "relevant (helpfulness, then day, desc), helpful or newest; any other value reads as relevant",
             default="relevant")
REVIEW_ID = path_id("review_id", "Error: invalid review_id provided", "review", 5)


@dataclass(frozen=True, slots=True)
class NewReview:
    product_id: int
    rating: int
    summary: str
    body: str
    recommend: bool
    name: str
    email: str
    photos: list[str]
    characteristics: dict[int, int]  # characteristic id -> rating 1-5


REVIEW = JsonBody(
    Object(NewReview, {
        "product_id": ID,
        "rating": Integer(1, 5),
        "summary": Optional(Text(0, 60), ""),
        "body": Text(1, 1000),
        "recommend": Boolean(),
        "name": Text(1, 60),
        "email": email(),
        "photos": Optional(ListOf(url(), 5), []),
        "characteristics": Optional(MapOf(ID, Integer(1, 5)), {}),
    }),
    INVALID,
    example={"product_id": 1, "rating": 5, "summary": "Great fit", "body": "Soft, warm and true to size.",
             "recommend": True, "name": "shopper", "email": "shopper@example.com",
             "photos": ["https://images.example.com/review.jpg"], "characteristics": {"1": 4, "2": "3"}})

REVIEW_ELEMENT = record(review_id=INTEGER, rating=INTEGER, summary=nullable(STRING), recommend=BOOLEAN,
                        response=nullable(STRING), body=STRING, date=DAY, reviewer_name=STRING,
                        helpfulness=INTEGER, photos=array(record(id=INTEGER, url=nullable(STRING))))
PAGE_OF_REVIEWS = record(product=DECIMAL_ID, page=INTEGER, count=INTEGER, results=array(REVIEW_ELEMENT))
_COUNT = {"type": "string", "pattern": "^[0-9]+$"}
AVERAGE = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{16}$", "examples": ["3.6666666666666667"]}
META = record(
    product_id=DECIMAL_ID,
    ratings={"type": "object", "propertyNames": {"enum": ["1", "2", "3", "4", "5"]}, "additionalProperties": _COUNT},
    recommended={"type": "object", "propertyNames": {"enum": ["false", "true"]}, "additionalProperties": _COUNT},
    characteristics={"type": "object", "additionalProperties": record(id=INTEGER, value=nullable(AVERAGE))})

TAGS = ("reviews",)
LIST = Operation(
    "A product's reviews, not reported ones, in one of three orders",
    json_answer(200, "`page` echoes the offset (page - 1) * count, `count` the page size asked", PAGE_OF_REVIEWS),
    params=(PRODUCT_ID, SORT, PAGE, COUNT), tags=TAGS,
    links={"MarkHelpful": {"operationId": "put_reviews_review_id_helpful",
                           "parameters": {"review_id": "$response.body#/results/0/review_id"},
                           "description": "The first review listed"},
           "Report": {"operationId": "put_reviews_review_id_report",
                      "parameters": {"review_id": "$response.body#/results/0/review_id"},
                      "description": "The first review listed"}})
META_OF = Operation("Rating and recommendation counts and characteristic averages of a product",
                    json_answer(200, "Counts are strings; averages have 16 decimals, or null without ratings", META),
                    params=(PRODUCT_ID,), tags=TAGS)
ADD = Operation(
    "Add a review", CREATED, body=REVIEW, tags=TAGS,
    description="An unknown product, or a characteristic that is not the product's, is a 422 too. Integers may be "
                'sent as strings of digits (`"product_id": "1"`), booleans as "true"/"false".',
    links={"ListReviews": {"operationId": "get_reviews", "parameters": {"product_id": "$request.body#/product_id"},
                           "description": "The new review is listed at once"},
           "ReviewMeta": {"operationId": "get_reviews_meta", "parameters": {"product_id": "$request.body#/product_id"},
                          "description": "and counted in the meta"}})
HELPFUL = Operation("Add one to a review's helpfulness", NO_CONTENT, params=(REVIEW_ID,), not_found="review",
                    tags=TAGS, description="Atomic: N concurrent calls add exactly N.")
REPORT = Operation("Hide a review from lists (meta still counts it)", NO_CONTENT, params=(REVIEW_ID,),
                   not_found="review", tags=TAGS)
