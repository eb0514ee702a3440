"""JSON request bodies, declared once: read from a request and described in `/openapi.json`.

Every POST route reads its body the same way: `Content-Type: application/json` (parameters such
as `charset` are fine), a well-formed UTF-8 JSON document, and a value its declaration accepts.
Anything else is a 422 with the route's legacy text, never a 500. Requiring the JSON media type
also means that a web page on another origin cannot post without a CORS preflight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .http import HTTPError, Request
from .values import Invalid, Object

T = TypeVar("T")

MEDIA_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class JsonBody(Generic[T]):
    shape: Object[T]
    invalid: str  # the 422 text
    example: dict[str, Any]  # a valid body, shown (and tried) in /docs

    def read(self, request: Request) -> T:
        if not is_json(request.headers.get("content-type")):
            raise HTTPError(422, self.invalid)
        try:
            return self.shape.parse(request.json(self.invalid))
        except Invalid:
            raise HTTPError(422, self.invalid) from None

    def describe(self) -> dict[str, Any]:
        """The OpenAPI Request Body Object."""
        return {"required": True,
                "content": {MEDIA_TYPE: {"schema": self.shape.schema(), "example": self.example}}}


def is_json(content_type: str | None) -> bool:
    """Whether a Content-Type header names application/json (any case, any parameters)."""
    return content_type is not None and content_type.partition(";")[0].strip().lower() == MEDIA_TYPE
