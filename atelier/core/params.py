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

    # read(request) -> the value, or a 422 with `invalid`. Made once from the fields above, as a
    # closure over them: this runs for every parameter of every GET, and a closure reads its
    # variables faster than a method reads attributes (bench/params_parse.py).
    read: Callable[[Request], T] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "read", self._reader())

    def _reader(self) -> Callable[[Request], T]:
        name, parse, invalid, default, in_path = (self.name, self.value.parse, self.invalid, self.default,
                                                  self.where == "path")

        def read(request: Request) -> T:
            raw = (request.params if in_path else request.query).get(name)
            if raw:
                try:
                    return parse(raw)
                except Invalid:
                    raise HTTPError(422, invalid) from None
            if default is None:  # absent, or an empty query value
                raise HTTPError(422, invalid)
            return default

        return read

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


def paging(request: Request) -> tuple[int, int, int]:
    """(count as asked, offset (page - 1) * count, rows to read: count clamped to the configured
    maximum). A plain tuple: made on every paged GET, where a class would cost more than the rest."""
    page, count = PAGE.read(request), COUNT.read(request)
    return count, (page - 1) * count, min(count, request.app.settings.max_count)
