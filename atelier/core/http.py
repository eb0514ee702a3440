"""The HTTP plumbing every service shares: requests, responses, errors and the router.

Handlers are plain `async def handler(request) -> Response`. The router is independent of the
server protocol; `atelier.core.rsgi` and `atelier.core.asgi` adapt it to Granian's RSGI and to
ASGI servers.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

if TYPE_CHECKING:
    from .operations import Operation

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Request:
    __slots__ = ("app", "body", "headers", "method", "params", "path", "query_string", "route", "state")

    def __init__(self, app: Any, method: str, path: str, query_string: str, headers: Any, body: bytes = b""):
        self.app = app  # the atelier.core.app.App serving this request
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers = headers  # lower-case names
        self.body = body
        self.params: dict[str, str] = {}  # path parameters
        self.route: str = ""  # route template, for metrics
        self.state: dict[str, Any] = {}

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; the first value wins when a name repeats."""
        q = self.state.get("query")
        if q is None:
            q = {}
            for k, v in parse_qsl(self.query_string, keep_blank_values=True):
                q.setdefault(k, v)
            self.state["query"] = q
        return q

    def json(self, invalid: str = "Error: malformed JSON body") -> Any:
        """The body as JSON; malformed JSON is a 422 with the route's own message `invalid`."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise HTTPError(422, invalid) from None

    def cookie(self, name: str) -> str | None:
        raw = self.headers.get("cookie")
        if not raw:
            return None
        for part in raw.split(";"):
            k, _, v = part.strip().partition("=")
            if k == name:
                return v
        return None


@dataclass(slots=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(data), JSON)


def raw_json(body: bytes, status: int = 200) -> Response:
    """A JSON document that is already serialized (precomputed in the database)."""
    return Response(status, body, JSON)


def text_response(text: str, status: int = 200) -> Response:
    return Response(status, text.encode(), TEXT)


CREATED = Response(201, b"Created", TEXT)
NO_CONTENT = Response(204, b"", None)


class HTTPError(Exception):
    """Raised anywhere in a handler; becomes a response with this status and body."""

    def __init__(self, status: int, message: str, as_json: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.as_json = as_json

    def response(self) -> Response:
        if self.as_json:
            return json_response({"error": self.message}, self.status)
        return text_response(self.message, self.status)


def not_found(what: str) -> HTTPError:
    return HTTPError(404, f"{what} not found", as_json=True)


Handler = Callable[[Request], Awaitable[Response]]

_PARAM = re.compile(r"\{(\w+)\}")

# The legacy host served everything under /api/fec2/<campus>/; front ends swap only the host part.
LEGACY_PREFIX = "/api/fec2/"

# The order of the methods in an Allow header.
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def canonical_path(path: str) -> str:
    """The path routes are matched against: without the legacy base path `/api/fec2/<campus>` (any
    non-empty campus name) and without one trailing slash, as the legacy Express routing answered."""
    if path.startswith(LEGACY_PREFIX):
        end = path.find("/", len(LEGACY_PREFIX))
        if end > len(LEGACY_PREFIX):
            path = path[end:]
    if len(path) > 1 and path[-1] == "/":
        path = path[:-1]
    return path


@dataclass(slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str] | None
    operation: Operation | None = None  # what it takes and answers (core/operations.py), for /openapi.json


class Router:
    """Exact paths are a dict lookup; templated paths (`/products/{product_id}`) are regexes.

    Paths are matched in canonical form (`canonical_path`), and HEAD is answered by the GET route."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._exact: dict[tuple[str, str], Route] = {}
        self._templated: dict[str, list[Route]] = {}  # by first path segment

    def add(self, method: str, template: str, handler: Handler, operation: Operation | None = None) -> None:
        pattern = None
        if "{" in template:
            pattern = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "$")
        route = Route(method, template, handler, pattern, operation)
        self.routes.append(route)
        if pattern is None:
            self._exact[(method, template)] = route
        else:
            self._templated.setdefault(_first_segment(template), []).append(route)

    def get(self, template: str, operation: Operation) -> Callable[[Handler], Handler]:
        return self._decorator("GET", template, operation)

    def post(self, template: str, operation: Operation) -> Callable[[Handler], Handler]:
        return self._decorator("POST", template, operation)

    def put(self, template: str, operation: Operation) -> Callable[[Handler], Handler]:
        return self._decorator("PUT", template, operation)

    def _decorator(self, method: str, template: str, operation: Operation) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, template, handler, operation)
            return handler

        return register

    def include(self, other: Router) -> None:
        for r in other.routes:
            self.add(r.method, r.template, r.handler, r.operation)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """The route answering `method` on `path` and its path parameters, or (None, {})."""
        path = canonical_path(path)
        if method == "HEAD":
            method = "GET"
        route = self._exact.get((method, path))
        if route is not None:
            return route, {}
        for r in self._templated.get(_first_segment(path), ()):
            if r.method == method:
                m = r.pattern.match(path)  # type: ignore[union-attr]
                if m is not None:
                    return r, m.groupdict()
        return None, {}

    def allow(self, path: str) -> str:
        """The Allow header of `path`: its methods, with HEAD beside GET and OPTIONS (answered for
        every known path); "" for a path no route knows."""
        path = canonical_path(path)
        methods = {m for (m, p) in self._exact if p == path}  # a scan: only 405s and OPTIONS come here
        for r in self._templated.get(_first_segment(path), ()):
            if r.pattern.match(path):  # type: ignore[union-attr]
                methods.add(r.method)
        if not methods:
            return ""
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(m for m in _METHOD_ORDER if m in methods)


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") and len(path) > 1 else ""
