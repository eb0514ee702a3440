"""Path and query parameters, declared once: read from a request (anything else is a 422 with the
route's legacy text) and described in `/openapi.json` from the same declaration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from .http import HTTPError, Request
from .values import INT64_MAX, PG_INT_MAX, Integer, Invalid, Value

T = TypeVar("T")

ID = Integer(1, PG_INT_MAX)  # a row id: a positive PostgreSQL `integer`


@dataclass(frozen=True, slots=True)
class Param(Generic[T]):
    """A path or query parameter. A query parameter with a `default` may be left out or sent empty
    (`?page=`); without one it is required, as a path parameter always is."""

    name: str
    where: Literal["path", "query"]
    value: Value[T]
    invalid: str  # the 422 text of a value that is not `value` ("": every value is read as something)
    description: str
    default: T | None = None
    example: T | None = None  # shown, and filled in, by /docs

    _parse: Callable[[Any], T] = field(init=False, repr=False, compare=False)  # value.parse, looked up once

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parse", self.value.parse)

    def read(self, request: Request) -> T:
        # One method, no helper: this runs for every parameter of every GET (bench/params_parse.py).
        raw = (request.params if self.where == "path" else request.query).get(self.name)
        if raw:
            try:
                return self._parse(raw)
            except Invalid:
                raise HTTPError(422, self.invalid) from None
        if self.default is None:  # absent, or an empty query value
            raise HTTPError(422, self.invalid)
        return self.default

    def describe(self) -> dict[str, Any]:
        """The OpenAPI Parameter Object."""
        schema = self.value.parameter_schema()
        parameter: dict[str, Any] = {"name": self.name, "in": self.where, "description": self.description,
                                     "schema": schema}
        if self.example is not None:
            parameter["example"] = self.example
        if self.default is None:
            parameter["required"] = True
        else:
            parameter["schema"] = {**schema, "default": self.default}
            parameter["allowEmptyValue"] = True  # `?page=` reads as the default
        return parameter


def path_id(name: str, invalid: str, what: str, example: int) -> Param[int]:
    return Param(name, "path", ID, invalid, f"The {what}'s id: a positive 32-bit integer", example=example)


def product_id_query(description: str = "The product (required)") -> Param[int]:
    return Param("product_id", "query", ID, "Error: invalid product_id provided", description, example=1)


PAGE = Param("page", "query", Integer(1, INT64_MAX), "Error: invalid page provided",
             "1-based page number", default=1)
COUNT = Param("count", "query", Integer(0, INT64_MAX), "Error: invalid count provided",
              "Page size; 0 is a page of nothing, and at most ATELIER_MAX_COUNT rows are returned", default=5)


@dataclass(slots=True)  # not frozen: made on every paged GET, and a frozen dataclass is slower to make
class Paging:
    count: int  # as asked (echoed by the endpoints that echo it)
    offset: int  # (page - 1) * count
    limit: int  # rows to read: count clamped to the configured maximum


def paging(request: Request) -> Paging:
    page, count = PAGE.read(request), COUNT.read(request)
    return Paging(count, (page - 1) * count, min(count, request.app.settings.max_count))
