"""Validation of the POST bodies: anything that is not exactly what the contract says is a 422."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..core.http import HTTPError
from ..core.params import PG_INT_MAX

INVALID_QUESTION = "Error: Question body contains invalid entries"
INVALID_ANSWER = "Error: Answer body contains invalid entries"

MAX_BODY = 1000
MAX_NAME = 60
MAX_EMAIL = 60
MAX_PHOTOS = 5
MAX_URL = 2048

EMAIL = re.compile(r"[^@\s\x00]+@[^@\s\x00.]+(\.[^@\s\x00.]+)+")


@dataclass
class NewQuestion:
    product_id: int
    body: str
    name: str
    email: str


@dataclass
class NewAnswer:
    body: str
    name: str
    email: str
    photos: list[str]


def question(data: Any) -> NewQuestion:
    if not isinstance(data, dict):
        raise HTTPError(422, INVALID_QUESTION)
    product_id = data.get("product_id")
    if not _is_id(product_id):
        raise HTTPError(422, INVALID_QUESTION)
    body, name, email = _author(data, INVALID_QUESTION)
    return NewQuestion(product_id, body, name, email)


def answer(data: Any) -> NewAnswer:
    if not isinstance(data, dict):
        raise HTTPError(422, INVALID_ANSWER)
    body, name, email = _author(data, INVALID_ANSWER)
    photos = data.get("photos", [])
    if photos is None:
        photos = []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(_is_url(p) for p in photos):
        raise HTTPError(422, INVALID_ANSWER)
    return NewAnswer(body, name, email, photos)


def _author(data: dict[str, Any], message: str) -> tuple[str, str, str]:
    body, name, email = data.get("body"), data.get("name"), data.get("email")
    if not (_is_text(body, MAX_BODY) and _is_text(name, MAX_NAME) and _is_text(email, MAX_EMAIL)
            and EMAIL.fullmatch(email)):
        raise HTTPError(422, message)
    return body, name, email


def _is_id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= PG_INT_MAX


def _is_text(value: Any, longest: int) -> bool:
    """A string of 1..longest characters that is not blank and that PostgreSQL can store."""
    return isinstance(value, str) and 0 < len(value) <= longest and not value.isspace() and "\x00" not in value


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL or "\x00" in value:
        return False
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
