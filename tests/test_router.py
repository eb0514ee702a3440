"""The router, the CORS policy and App.handle's answers without a route, in process (no server, no database)."""

from __future__ import annotations

import asyncio

import pytest

from atelier.core.app import App
from atelier.core.config import Settings
from atelier.core.cors import ALLOWED_METHODS, CorsPolicy
from atelier.core.http import Request, Response, Router, canonical_path, text_response


async def _named(request: Request) -> Response:
    return text_response(f"{request.route} {request.params}")


def _router() -> Router:
    router = Router()
    router.add("GET", "/products", _named)
    router.add("GET", "/products/{product_id}", _named)
    router.add("GET", "/products/{product_id}/styles", _named)
    router.add("GET", "/reviews", _named)
    router.add("POST", "/reviews", _named)
    router.add("GET", "/reviews/meta", _named)
    router.add("PUT", "/reviews/{review_id}/helpful", _named)
    return router


@pytest.mark.parametrize(("path", "canonical"), [
    ("/products", "/products"),
    ("/products/", "/products"),
    ("/products/1/styles/", "/products/1/styles"),
    ("/products//", "/products/"),  # one trailing slash only
    ("/", "/"),
    ("/api/fec2/hr-rfp/products/1", "/products/1"),
    ("/api/fec2/any-campus/reviews/meta/", "/reviews/meta"),
    ("/api/fec2/hr-rfp/", "/"),
    ("/api/fec2/hr-rfp", "/api/fec2/hr-rfp"),  # no path after the campus: nothing to answer
    ("/api/fec2//products", "/api/fec2//products"),  # no campus name
    ("/api/fec3/hr-rfp/products", "/api/fec3/hr-rfp/products"),
])
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


@pytest.mark.parametrize("path", ["/products/7/styles", "/products/7/styles/", "/api/fec2/x/products/7/styles",
                                  "/api/fec2/hr-rfp/products/7/styles/"])
def test_templated_routes_match_in_every_spelling(path: str) -> None:
    route, params = _router().match("GET", path)
    assert route is not None and route.template == "/products/{product_id}/styles"
    assert params == {"product_id": "7"}


@pytest.mark.parametrize("path", ["/reviews", "/reviews/", "/api/fec2/hr-rfp/reviews/"])
def test_exact_routes_match_in_every_spelling_and_method(path: str) -> None:
    router = _router()
    for method in ("GET", "POST"):
        route, params = router.match(method, path)
        assert route is not None and (route.method, route.template, params) == (method, "/reviews", {})


def test_head_is_answered_by_the_get_route() -> None:
    router = _router()
    route, params = router.match("HEAD", "/products/3/")
    assert route is not None and (route.method, route.template, params) == ("GET", "/products/{product_id}", {
        "product_id": "3"})
    assert router.match("HEAD", "/reviews/5/helpful") == (None, {})  # no GET there


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/products/1/styles/x"), ("GET", "/nothing"), ("GET", "/products//"), ("GET", "/products/1//"),
    ("DELETE", "/products/1"), ("POST", "/products/1"), ("GET", "/reviews/5/helpful"), ("GET", ""),
])
def test_no_route(method: str, path: str) -> None:
    assert _router().match(method, path) == (None, {})


@pytest.mark.parametrize(("path", "allow"), [
    ("/reviews", "GET, HEAD, POST, OPTIONS"),
    ("/reviews/", "GET, HEAD, POST, OPTIONS"),
    ("/api/fec2/c/reviews", "GET, HEAD, POST, OPTIONS"),
    ("/products/9", "GET, HEAD, OPTIONS"),
    ("/reviews/9/helpful/", "PUT, OPTIONS"),
    ("/reviews/meta", "GET, HEAD, OPTIONS"),
    ("/nothing", ""),
    ("/products/9/nothing", ""),
])
def test_allow(path: str, allow: str) -> None:
    assert _router().allow(path) == allow


# CORS decisions ------------------------------------------------------------------------------------------


def test_any_origin_gets_its_own_origin_back_with_credentials() -> None:
    policy = CorsPolicy.from_setting("*", 600)
    assert dict(policy.headers("https://shop.example")) == {
        "access-control-allow-origin": "https://shop.example", "access-control-allow-credentials": "true",
        "vary": "origin"}
    assert dict(policy.headers(None)) == {"access-control-allow-origin": "*", "vary": "origin"}
    # `null` (sandboxed frames, file: pages) names no site: readable, never with credentials
    assert dict(policy.headers("null")) == {"access-control-allow-origin": "*", "vary": "origin"}


def test_configured_origins() -> None:
    policy = CorsPolicy.from_setting(" https://Shop.example/ , http://127.0.0.1:8080", 600)
    assert policy.origins == frozenset({"https://shop.example", "http://127.0.0.1:8080"})
    assert dict(policy.headers("http://127.0.0.1:8080"))["access-control-allow-origin"] == "http://127.0.0.1:8080"
    assert dict(policy.headers("http://127.0.0.1:8080"))["access-control-allow-credentials"] == "true"
    for refused in ("http://127.0.0.1:8081", "https://evil.example", "null"):
        assert dict(policy.headers(refused)) == {"vary": "origin"}
        assert policy.preflight(refused, "authorization") == ()
    assert dict(policy.headers(None)) == {"vary": "origin"}


def test_preflight_headers() -> None:
    policy = CorsPolicy.from_setting("", 7200)  # empty: any
    extra = dict(policy.preflight("http://a.example", "Authorization, Content-Type, X-Trace"))
    assert extra == {"access-control-allow-methods": ALLOWED_METHODS,
                     "access-control-allow-headers": "Authorization, Content-Type, X-Trace",
                     "access-control-max-age": "7200"}
    assert dict(policy.preflight("http://a.example", None))["access-control-allow-headers"] == \
        "Authorization, Content-Type"
    # a list that is not header names is not echoed
    assert dict(policy.preflight("http://a.example", "x\r\ny: z"))["access-control-allow-headers"] == \
        "Authorization, Content-Type"


@pytest.mark.parametrize("bad", ["shop.example", "ftp://shop.example", "https://shop.example/path", "null"])
def test_configured_origins_must_be_origins(bad: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        CorsPolicy.from_setting(f"https://ok.example,{bad}", 600)


# App.handle without a route ------------------------------------------------------------------------------


def _app(origins: str = "*") -> App:
    return App(Settings(database_url=None, cors_origins=origins), _router())


def _handle(app: App, method: str, path: str, **headers: str) -> tuple[Response, dict[str, str]]:
    request = Request(app, method, path, "", {k.replace("_", "-"): v for k, v in headers.items()})
    response = asyncio.run(app.handle(request))
    return response, dict(app.wire_headers(headers.get("origin"), response))


def test_known_path_other_method_is_405_with_allow() -> None:
    response, headers = _handle(_app(), "DELETE", "/reviews/")
    assert response.status == 405 and headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert headers["access-control-allow-origin"] == "*"


def test_options_without_preflight_is_204_with_allow_or_404() -> None:
    response, headers = _handle(_app(), "OPTIONS", "/products/4")
    assert (response.status, headers["allow"]) == (204, "GET, HEAD, OPTIONS")
    response, _ = _handle(_app(), "OPTIONS", "/nothing")
    assert response.status == 404


def test_preflight_is_204_on_any_path_for_an_allowed_origin() -> None:
    for path in ("/reviews", "/reviews/1/helpful/", "/nothing"):
        response, headers = _handle(_app("http://front.example"), "OPTIONS", path, origin="http://front.example",
                                    access_control_request_method="PUT",
                                    access_control_request_headers="authorization,content-type")
        assert response.status == 204 and response.body == b""
        assert headers["access-control-allow-origin"] == "http://front.example"
        assert headers["access-control-allow-credentials"] == "true"
        assert headers["access-control-allow-methods"] == "GET, HEAD, POST, PUT, OPTIONS"
        assert headers["access-control-allow-headers"] == "authorization,content-type"
        assert int(headers["access-control-max-age"]) > 0
        assert headers["vary"] == "origin"


def test_preflight_from_a_refused_origin_has_no_cors_headers() -> None:
    response, headers = _handle(_app("http://front.example"), "OPTIONS", "/reviews", origin="http://other.example",
                                access_control_request_method="POST")
    assert response.status == 204
    assert not [name for name in headers if name.startswith("access-control-")]


def test_routed_answers_keep_their_headers_and_gain_cors() -> None:
    response, headers = _handle(_app(), "GET", "/api/fec2/hr-rfp/products/5/", origin="http://x.example")
    assert (response.status, response.body) == (200, b"/products/{product_id} {'product_id': '5'}")
    assert headers["content-type"].startswith("text/plain")
    assert headers["access-control-allow-origin"] == "http://x.example"


def test_a_503_carries_cors_too() -> None:
    async def needs_database(request: Request) -> Response:
        await request.app.db().fetchval("SELECT 1")
        return text_response("unreachable")

    app = _app()
    app.router.add("GET", "/needs-database", needs_database)
    response, headers = _handle(app, "GET", "/needs-database/", origin="http://x.example")
    assert response.status == 503  # no database configured
    assert headers["access-control-allow-origin"] == "http://x.example"
