"""The request rules every route shares, through the real server (api.md, "General rules"):
JSON-only POSTs on every POST route alike, and the write hook: every write route awaits
`App.changed(product, question)` after its commit and before its 201/204."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest
from conftest import Server, loaded_database, sample_copy

from atelier.core.app import App
from atelier.core.config import Settings
from atelier.core.http import Request
from atelier.server import create_app

ANSWERS = ("id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful\n"
           '1,1,"Soft, I think",1599958871179,"metslover","first.last@gmail.com",0,5\n')
PHOTOS = "id,answer_id,url\n"
CART = "id,user_session,product_id,active\n"

# Every POST route: a valid body and the route's legacy 422 text.
POSTS: dict[str, tuple[dict[str, Any], str]] = {
    "/reviews": ({"product_id": 2, "rating": 4, "body": "Warm.", "recommend": True, "name": "n",
                  "email": "n@example.com"}, "Error: Review body contains invalid entries"),
    "/qa/questions": ({"product_id": 2, "body": "Warm?", "name": "n", "email": "n@example.com"},
                      "Error: Question body contains invalid entries"),
    "/qa/questions/1/answers": ({"body": "Yes.", "name": "n", "email": "n@example.com"},
                                "Error: Answer body contains invalid entries"),
    "/cart": ({"sku_id": 3}, "Error: invalid sku_id provided"),
    "/interactions": ({"element": "a", "widget": "b", "time": "now"},
                      "Error: Interaction body contains invalid entries"),
}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = sample_copy(tmp_path_factory.mktemp("contract-data"), answers=ANSWERS, answers_photos=PHOTOS, cart=CART)
    with loaded_database(data, rejects=data / "rejects") as url:
        yield url


@pytest.fixture(scope="module")
def api(database: str) -> Iterator[httpx.Client]:
    server = Server(database)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.stop()


@pytest.mark.parametrize("path", list(POSTS))
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/json-patch+json",
                                          "text/json"])
def test_every_post_route_takes_json_only(api: httpx.Client, path: str, content_type: str | None) -> None:
    body, invalid = POSTS[path]
    headers = {"content-type": content_type} if content_type else {}
    r = api.post(path, content=orjson.dumps(body), headers=headers)
    assert r.status_code == 422 and r.text == invalid


@pytest.mark.parametrize("path", list(POSTS))
@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b"{", b"", b'{"body": "\xed\xa0\x80"}'])
def test_every_post_route_refuses_malformed_json_and_invalid_utf8(api: httpx.Client, path: str, raw: bytes) -> None:
    r = api.post(path, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.text == POSTS[path][1]


@pytest.mark.parametrize("path", list(POSTS))
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])
def test_every_post_route_accepts_json_with_any_parameters(api: httpx.Client, path: str, content_type: str) -> None:
    r = api.post(path, content=orjson.dumps(POSTS[path][0]), headers={"content-type": content_type})
    assert r.status_code == 201 and r.text == "Created"


# --- the write hook ------------------------------------------------------------------------------

def _calls(database: str, requests: list[tuple[str, str, Any]]) -> list[tuple[int, list[tuple[int, int | None]]]]:
    """(status, changes announced before it) of each request, handled in-process by an App on `database`."""
    async def go() -> list[tuple[int, list[tuple[int, int | None]]]]:
        app: App = create_app(replace(Settings.from_env(), database_url=database))
        announced: list[tuple[int, int | None]] = []

        async def listener(product_id: int, question_id: int | None) -> None:
            announced.append((product_id, question_id))

        app.change_listeners.append(listener)
        app.start()
        try:
            out = []
            for method, target, body in requests:
                path, _, query = target.partition("?")
                raw = orjson.dumps(body) if body is not None else b""
                response = await app.handle(Request(app, method, path, query, {"content-type": "application/json"},
                                                    raw))
                out.append((response.status, list(announced)))
                announced.clear()
            return out
        finally:
            await app.stop()

    return asyncio.run(go())


def test_every_write_announces_its_product_before_answering(database: str) -> None:
    results = _calls(database, [
        ("POST", "/reviews", {**POSTS["/reviews"][0], "product_id": 3}),
        ("PUT", "/reviews/5/helpful", None),  # review 5 is product 2's
        ("PUT", "/reviews/5/report", None),
        ("PUT", "/reviews/999999/helpful", None),
        ("POST", "/qa/questions", {**POSTS["/qa/questions"][0], "product_id": 4}),
        ("POST", "/qa/questions/1/answers", POSTS["/qa/questions/1/answers"][0]),  # question 1 is product 1's
        ("PUT", "/qa/questions/1/helpful", None),
        ("PUT", "/qa/questions/1/report", None),
        ("PUT", "/qa/answers/1/helpful", None),  # answer 1 is question 1's
        ("PUT", "/qa/answers/1/report", None),
        ("PUT", "/qa/answers/999999/report", None),
        ("POST", "/reviews", {**POSTS["/reviews"][0], "product_id": 424242}),
    ])
    assert results == [
        (201, [(3, None)]), (204, [(2, None)]), (204, [(2, None)]), (404, []),
        (201, [(4, None)]), (201, [(1, 1)]), (204, [(1, 1)]), (204, [(1, 1)]), (204, [(1, 1)]), (204, [(1, 1)]),
        (404, []), (422, []),
    ]
