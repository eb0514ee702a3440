"""Cross-origin resource sharing: which browser pages may read atelier's answers.

Front ends call the API from their own origin, with an `Authorization` header and, for the cart,
`credentials: "include"`. Every answer carries the headers below, decided from the request's
`Origin` alone; the lists are built once, so an answer costs one dict lookup or one small list.

- Any origin allowed (the default): a request with an `Origin` gets that origin back with
  `Access-Control-Allow-Credentials: true` (a credentialed fetch accepts nothing else); a request
  without one (not a browser's cross-origin request) gets `*`. The origin `null` (sandboxed frames,
  `file:` pages) gets `*` without credentials: it names no site, so it is never trusted with cookies.
- Configured origins: those get their own origin back with credentials; any other origin gets no
  CORS header, so the browser keeps the answer from the page.
- `Vary: Origin` on every answer, since each of them depends on the origin.
"""

from __future__ import annotations

import re

Headers = tuple[tuple[str, str], ...]

ALLOWED_METHODS = "GET, HEAD, POST, PUT, OPTIONS"
DEFAULT_ALLOWED_HEADERS = "Authorization, Content-Type"

_ALLOW_ORIGIN = "access-control-allow-origin"
_CREDENTIALS = ("access-control-allow-credentials", "true")
_VARY = ("vary", "origin")
# A comma-separated list of header names (RFC 9110 tokens): echoed back as allowed by a preflight.
_HEADER_LIST = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$")
_ORIGIN = re.compile(r"^https?://[^/?#\s]+$")


class CorsPolicy:
    def __init__(self, origins: frozenset[str] | None, max_age: int) -> None:
        """`origins`: the allowed origins (`scheme://host[:port]`, lower case), None for any."""
        self.origins = origins
        self.max_age = str(max_age)
        self._no_origin: Headers = ((_ALLOW_ORIGIN, "*"), _VARY) if origins is None else (_VARY,)
        self._refused: Headers = (_VARY,)
        self._allowed: dict[str, Headers] = {
            origin: ((_ALLOW_ORIGIN, origin), _CREDENTIALS, _VARY) for origin in origins or ()
        }

    @classmethod
    def from_setting(cls, origins: str, max_age: int) -> CorsPolicy:
        """`origins` as in ATELIER_CORS_ORIGINS: `*` (or empty) for any, else a comma-separated list."""
        entries = [entry.strip().rstrip("/").lower() for entry in origins.split(",") if entry.strip()]
        if not entries or entries == ["*"]:
            return cls(None, max_age)
        bad = [entry for entry in entries if not _ORIGIN.match(entry)]
        if bad:
            raise ValueError(f"ATELIER_CORS_ORIGINS: not an origin (scheme://host[:port]): {', '.join(bad)}")
        return cls(frozenset(entries), max_age)

    def allows(self, origin: str) -> bool:
        return self.origins is None or origin in self.origins

    def headers(self, origin: str | None) -> Headers:
        """The CORS headers of an answer to a request from `origin` (the `Origin` header, or None)."""
        if origin is None:
            return self._no_origin
        if self.origins is None:
            if origin == "null":
                return self._no_origin
            return ((_ALLOW_ORIGIN, origin), _CREDENTIALS, _VARY)
        return self._allowed.get(origin, self._refused)

    def preflight(self, origin: str, requested_headers: str | None) -> Headers:
        """The headers a preflight answer adds to `headers(origin)` (none for an origin not allowed).
        The requested headers are echoed back when they are a well-formed list: atelier ignores the
        headers it does not use, so any of them is safe to allow."""
        if not self.allows(origin):
            return ()
        allowed = DEFAULT_ALLOWED_HEADERS
        if requested_headers and _HEADER_LIST.match(requested_headers.strip()):
            allowed = requested_headers.strip()
        return (("access-control-allow-methods", ALLOWED_METHODS), ("access-control-allow-headers", allowed),
                ("access-control-max-age", self.max_age))

