"""Checking a POST /reviews body (api.md): every field's type, range and length.

Types are strict: a bool is not an int, a number is not a string. `summary`, `photos` and
`characteristics` may be left out (empty); the other fields are required. Whether the product
exists and owns the characteristics is checked against the database (queries.add_review).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.http import HTTPError, Request
from ..core.params import PG_INT_MAX

INVALID = "Error: Review body contains invalid entries"

MAX_SUMMARY = 60
MAX_BODY = 1000
MAX_NAME = 60
MAX_EMAIL = 60
MAX_PHOTOS = 5
MAX_URL = 2048

_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+")


class Invalid(Exception):
    """A field that breaks the contract (the message names it, for logs and tests)."""


@dataclass(frozen=True)
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


def review_from_request(request: Request) -> NewReview:
    """The body of a POST /reviews request as a NewReview, or a 422 with the contract's message."""
    media_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise HTTPError(422, INVALID)
    try:
        return new_review(request.json(INVALID))
    except Invalid:
        raise HTTPError(422, INVALID) from None


def new_review(data: Any) -> NewReview:
    if not isinstance(data, dict):
        raise Invalid("body is not a JSON object")
    return NewReview(
        product_id=_integer(data, "product_id", 1, PG_INT_MAX),
        rating=_integer(data, "rating", 1, 5),
        summary=_text(data, "summary", 0, MAX_SUMMARY, default=""),
        body=_text(data, "body", 1, MAX_BODY),
        recommend=_boolean(data, "recommend"),
        name=_text(data, "name", 1, MAX_NAME),
        email=_email(data, "email"),
        photos=_photos(data.get("photos", [])),
        characteristics=_characteristics(data.get("characteristics", {})),
    )


def _integer(data: dict[str, Any], name: str, low: int, high: int) -> int:
    value = data.get(name)
    if type(value) is not int or not low <= value <= high:  # type(): True is an int to isinstance
        raise Invalid(f"{name} must be an integer in {low}..{high}")
    return value


def _boolean(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    if type(value) is not bool:
        raise Invalid(f"{name} must be true or false")
    return value


def _text(data: dict[str, Any], name: str, low: int, high: int, default: str | None = None) -> str:
    value = data.get(name, default)
    if type(value) is not str or not low <= len(value) <= high or "\x00" in value:
        raise Invalid(f"{name} must be a string of {low}..{high} characters")
    return value


def _email(data: dict[str, Any], name: str) -> str:
    value = _text(data, name, 3, MAX_EMAIL)
    if not _EMAIL.fullmatch(value):
        raise Invalid(f"{name} is not an email address")
    return value


def _photos(value: Any) -> list[str]:
    if type(value) is not list or len(value) > MAX_PHOTOS:
        raise Invalid(f"photos must be a list of at most {MAX_PHOTOS} URLs")
    for url in value:
        if not _is_web_url(url):
            raise Invalid(f"not an http(s) URL: {url!r}")
    return value


def _is_web_url(url: Any) -> bool:
    if type(url) is not str or not 0 < len(url) <= MAX_URL or not url.isprintable() or " " in url:
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _characteristics(value: Any) -> dict[int, int]:
    if type(value) is not dict:
        raise Invalid("characteristics must be an object")
    ratings: dict[int, int] = {}
    for key, rating in value.items():
        if not key.isascii() or not key.isdigit() or len(key) > 10 or key != str(int(key)) or \
                not 1 <= int(key) <= PG_INT_MAX:
            raise Invalid(f"not a characteristic id: {key!r}")
        if type(rating) is not int or not 1 <= rating <= 5:
            raise Invalid(f"characteristic {key} must be rated 1..5")
        ratings[int(key)] = rating
    return ratings
