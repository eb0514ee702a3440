"""The Reviews contract (spec/api.md) on the real legacy rows, through the real HTTP server.

Reads run against the shared sample server; every test that writes (or could write, when
validation is wrong) runs against a server on a database of its own (`own`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import SAMPLE, Server, atelier, create_database, drop_database

INVALID_PRODUCT = "Error: invalid product_id provided"
INVALID_BODY = "Error: Review body contains invalid entries"

# Orders of the legacy head rows (reviews.csv): review 14 (product 7) is reported.
ORDERS = {
    (1, "relevant"): [1, 2], (1, "helpful"): [1, 2], (1, "newest"): [2, 1],
    # 3 and 5 tie on helpfulness 5; 6 and 7 on 0; 4 and 6 were written on the same day (2020-07-01)
    (2, "relevant"): [5, 3, 4, 7, 6], (2, "helpful"): [3, 5, 4, 6, 7], (2, "newest"): [5, 7, 3, 6, 4],
    (7, "relevant"): [13], (7, "helpful"): [13], (7, "newest"): [13],
}


def ids(body: dict[str, Any]) -> list[int]:
    return [r["review_id"] for r in body["results"]]


# --- GET /reviews --------------------------------------------------------------------------------

@pytest.mark.parametrize("product_id, sort", list(ORDERS))
def test_orders_of_the_legacy_rows(client: httpx.Client, product_id: int, sort: str) -> None:
    r = client.get("/reviews", params={"product_id": product_id, "sort": sort, "count": 50})
    assert r.status_code == 200
    assert ids(r.json()) == ORDERS[(product_id, sort)]


def test_default_sort_is_relevant(client: httpx.Client) -> None:
    assert ids(client.get("/reviews?product_id=2").json()) == ORDERS[(2, "relevant")]


def test_review_fields_exactly_as_the_contract(client: httpx.Client) -> None:
    r = client.get("/reviews?product_id=2")
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["product", "page", "count", "results"]
    assert body["product"] == "2" and body["page"] == 0 and body["count"] == 5
    first = body["results"][0]
    assert list(first) == ["review_id", "rating", "summary", "recommend", "response", "body", "date",
                           "reviewer_name", "helpfulness", "photos"]
    assert first["review_id"] == 5 and first["rating"] == 3 and first["recommend"] is True
    assert first["summary"] == "I'm enjoying wearing these shades" and first["body"] == "Comfortable and practical."
    assert first["response"] is None and first["reviewer_name"] == "shortandsweeet" and first["helpfulness"] == 5
    assert first["date"] == "2021-03-17T00:00:00.000Z"
    assert [p["id"] for p in first["photos"]] == [1, 2, 3]
    assert list(first["photos"][0]) == ["id", "url"] and first["photos"][0]["url"].startswith("https://images")
    by_id = {r["review_id"]: r for r in body["results"]}
    assert by_id[3]["response"] == "Glad you're enjoying the product!" and by_id[3]["photos"] == []


def test_dates_at_midnight_utc(client: httpx.Client) -> None:
    # review 1: epoch-ms 1596080481467 is 2020-07-30T03:41:21Z
    review = next(r for r in client.get("/reviews?product_id=1").json()["results"] if r["review_id"] == 1)
    assert review["date"] == "2020-07-30T00:00:00.000Z"


def test_email_and_reported_never_returned(client: httpx.Client) -> None:
    text = client.get("/reviews?product_id=2&count=50").text
    assert "first.last@gmail.com" not in text and "reviewer_email" not in text and "reported" not in text


def test_reported_review_hidden(client: httpx.Client) -> None:
    assert 14 not in ids(client.get("/reviews?product_id=7&count=50").json())


def test_paging_echoes_offset_and_requested_count(client: httpx.Client) -> None:
    body = client.get("/reviews?product_id=2&page=2&count=2").json()
    assert body["page"] == 2 and body["count"] == 2
    assert ids(body) == ORDERS[(2, "relevant")][2:4]
    last = client.get("/reviews?product_id=2&page=3&count=2").json()
    assert last["page"] == 4 and ids(last) == ORDERS[(2, "relevant")][4:]
    assert client.get("/reviews?product_id=2&page=9&count=2").json()["results"] == []


@pytest.mark.parametrize("count", ["50", "1000", "9007199254740991"])
def test_huge_counts_mean_everything(client: httpx.Client, count: str) -> None:
    body = client.get(f"/reviews?product_id=2&count={count}").json()
    assert body["count"] == int(count) and ids(body) == ORDERS[(2, "relevant")]


def test_huge_page_is_empty_not_an_error(client: httpx.Client) -> None:
    r = client.get("/reviews?product_id=2&count=9007199254740991&page=3")
    assert r.status_code == 200 and r.json()["results"] == [] and r.json()["page"] == 2 * 9007199254740991


@pytest.mark.parametrize("product_id", [3, 999])  # no reviews; no such product
def test_product_without_reviews_is_empty(client: httpx.Client, product_id: int) -> None:
    r = client.get(f"/reviews?product_id={product_id}")
    assert r.status_code == 200
    assert r.json() == {"product": str(product_id), "page": 0, "count": 5, "results": []}


@pytest.mark.parametrize("query", ["", "product_id=", "product_id=hello", "product_id=5.55", "product_id=-1",
                                   "product_id=0", "product_id=99999999999999999999", "product_id=%201"])
def test_invalid_product_id(client: httpx.Client, query: str) -> None:
    for path in ("/reviews", "/reviews/meta"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 422 and r.text == INVALID_PRODUCT


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=x", "count=-1", "count=1.5", "count=many", "page=01"])
def test_invalid_page_count(client: httpx.Client, query: str) -> None:
    r = client.get(f"/reviews?product_id=2&{query}")
    assert r.status_code == 422 and r.text == f"Error: invalid {query.split('=')[0]} provided"


@pytest.mark.parametrize("sort", ["relevance", "best", "NEWEST", "", "helpfulness"])
def test_unknown_sort_reads_as_relevant(client: httpx.Client, sort: str) -> None:
    """api.md: published front ends send `sort=relevance`."""
    assert client.get(f"/reviews?product_id=2&sort={sort}").json() == \
        client.get("/reviews?product_id=2&sort=relevant").json()


def test_count_zero_is_a_page_of_nothing(client: httpx.Client) -> None:
    r = client.get("/reviews?product_id=2&count=0&page=4")
    assert r.status_code == 200 and r.json() == {"product": "2", "page": 0, "count": 0, "results": []}


# --- GET /reviews/meta ---------------------------------------------------------------------------

def test_meta_product_1(client: httpx.Client) -> None:
    r = client.get("/reviews/meta?product_id=1")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["product_id", "ratings", "recommended", "characteristics"]
    assert body["product_id"] == "1"
    assert body["ratings"] == {"4": "1", "5": "1"}
    assert body["recommended"] == {"false": "1", "true": "1"}
    assert list(body["characteristics"]) == ["Fit", "Length", "Comfort", "Quality"]
    assert body["characteristics"]["Fit"] == {"id": 1, "value": "4.0000000000000000"}
    assert body["characteristics"]["Length"] == {"id": 2, "value": "3.5000000000000000"}


def test_meta_product_2(client: httpx.Client) -> None:
    body = client.get("/reviews/meta?product_id=2").json()
    assert body["ratings"] == {"2": "1", "3": "1", "4": "2", "5": "1"}
    assert list(body["ratings"]) == ["2", "3", "4", "5"]
    assert body["recommended"] == {"false": "2", "true": "3"}
    assert body["characteristics"] == {"Quality": {"id": 5, "value": "4.2000000000000000"}}  # (4+5+5+3+4)/5


def test_meta_product_3_has_characteristics_without_ratings(client: httpx.Client) -> None:
    assert client.get("/reviews/meta?product_id=3").json() == {
        "product_id": "3", "ratings": {}, "recommended": {},
        "characteristics": {"Fit": {"id": 6, "value": None}, "Length": {"id": 7, "value": None},
                            "Comfort": {"id": 8, "value": None}, "Quality": {"id": 9, "value": None}}}


def test_meta_product_4(client: httpx.Client) -> None:
    # The legacy oracle's counts; the sample lacks characteristic reviews 20-25 of reviews 9 and
    # 10, so its averages are those of the rows present (the full oracle: test_reviews_load.py).
    body = client.get("/reviews/meta?product_id=4").json()
    assert body["ratings"] == {"2": "1", "4": "1", "5": "1"}
    assert body["recommended"] == {"false": "1", "true": "2"}
    assert {name: c["id"] for name, c in body["characteristics"].items()} == \
        {"Fit": 10, "Length": 11, "Comfort": 12, "Quality": 13}
    assert body["characteristics"]["Fit"]["value"] == "3.0000000000000000"  # reviews 8 (2) and 9 (4)


def test_meta_counts_reported_reviews(client: httpx.Client) -> None:
    assert client.get("/reviews/meta?product_id=7").json()["ratings"] == {"1": "1", "5": "1"}  # 14 is reported


def test_meta_of_unknown_product_is_empty(client: httpx.Client) -> None:
    assert client.get("/reviews/meta?product_id=999").json() == {
        "product_id": "999", "ratings": {}, "recommended": {}, "characteristics": {}}


# --- writes: a server on a database of our own ---------------------------------------------------

@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    url = create_database("atelier_reviews_api")
    try:
        atelier("load", "--data", str(SAMPLE), "--rejects", str(tmp_path_factory.mktemp("rejects")),
                env={"DATABASE_URL": url})
        server = Server(url)
        try:
            with httpx.Client(base_url=server.url, timeout=10) as c:
                yield c
        finally:
            server.stop()
    finally:
        drop_database(url)


def valid_review(**changes: Any) -> dict[str, Any]:
    body = {"product_id": 1, "rating": 4, "summary": "Solid", "body": "Fits well, warm enough.", "recommend": True,
            "name": "tester", "email": "tester@example.com", "photos": ["https://example.com/a.jpg"],
            "characteristics": {"1": 5, "2": 3}}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not MISSING}


MISSING = object()

INVALID_FIELDS = {
    "product_id missing": {"product_id": MISSING}, "product_id string not digits": {"product_id": "one"},
    "product_id string with sign": {"product_id": "+1"}, "product_id string leading zero": {"product_id": "01"},
    "product_id string fraction": {"product_id": "1.0"}, "product_id string too big": {"product_id": "2147483648"},
    "product_id bool": {"product_id": True}, "product_id fraction": {"product_id": 1.5},
    "product_id zero": {"product_id": 0}, "product_id negative": {"product_id": -1},
    "product_id too big": {"product_id": 2**31}, "product_id unknown": {"product_id": 500},
    "product_id null": {"product_id": None},
    "rating missing": {"rating": MISSING}, "rating 0": {"rating": 0}, "rating 6": {"rating": 6},
    "rating string 6": {"rating": "6"},
    "rating string fraction": {"rating": "4.5"}, "rating bool": {"rating": True}, "rating float": {"rating": 4.5},
    "summary too long": {"summary": "s" * 61}, "summary number": {"summary": 5}, "summary null": {"summary": None},
    "body missing": {"body": MISSING}, "body empty": {"body": ""}, "body too long": {"body": "b" * 1001},
    "body number": {"body": 7}, "body blank": {"body": " \n\t\u3000"}, "body with NUL": {"body": "a\u0000b"},
    "recommend missing": {"recommend": MISSING}, "recommend string True": {"recommend": "True"},
    "recommend string yes": {"recommend": "yes"}, "recommend string 1": {"recommend": "1"},
    "recommend int": {"recommend": 1}, "recommend null": {"recommend": None},
    "name missing": {"name": MISSING}, "name empty": {"name": ""}, "name too long": {"name": "n" * 61},
    "name number": {"name": 3}, "name blank": {"name": "  "},
    "email missing": {"email": MISSING}, "email no at": {"email": "tester.example.com"},
    "email no domain": {"email": "tester@"}, "email no dot": {"email": "a@b"},
    "email space": {"email": "te ster@example.com"}, "email too long": {"email": "e" * 49 + "@example.com"},
    "email number": {"email": 5},
    "photos six": {"photos": [f"https://example.com/{i}.jpg" for i in range(6)]},
    "photos string": {"photos": "https://example.com/a.jpg"}, "photos number item": {"photos": [5]},
    "photos ftp": {"photos": ["ftp://example.com/a.jpg"]}, "photos not a url": {"photos": ["not a url"]},
    "photos javascript": {"photos": ["javascript:alert(1)"]}, "photos no host": {"photos": ["https://"]},
    "photos null item": {"photos": [None]}, "photos object": {"photos": {}},
    "characteristics list": {"characteristics": [5]}, "characteristics value 6": {"characteristics": {"1": 6}},
    "characteristics value 0": {"characteristics": {"1": 0}},
    "characteristics value string 6": {"characteristics": {"1": "6"}},
    "characteristics value string space": {"characteristics": {"1": " 5"}},
    "characteristics value bool": {"characteristics": {"1": True}},
    "characteristics value fraction": {"characteristics": {"1": 4.5}},
    "characteristics id not a number": {"characteristics": {"Fit": 5}},
    "characteristics id zero": {"characteristics": {"0": 5}},
    "characteristics id leading zero": {"characteristics": {"01": 5}},
    "characteristics of another product": {"characteristics": {"5": 5}},  # 5 is product 2's Quality
    "characteristics unknown id": {"characteristics": {"999999": 5}},
}


def meta(client: httpx.Client, product_id: int) -> dict[str, Any]:
    return client.get(f"/reviews/meta?product_id={product_id}").json()


@pytest.mark.parametrize("changes", list(INVALID_FIELDS.values()), ids=list(INVALID_FIELDS))
def test_post_rejects_invalid_field(own: httpx.Client, changes: dict[str, Any]) -> None:
    before = meta(own, 1)
    r = own.post("/reviews", json=valid_review(**changes))
    assert r.status_code == 422 and r.text == INVALID_BODY
    assert meta(own, 1) == before


@pytest.mark.parametrize("content, content_type", [
    (b"{bad json", "application/json"), (b"", "application/json"), (b"[1, 2]", "application/json"),
    (b'"review"', "application/json"), (b"null", "application/json"), (b"\xff\xfe", "application/json"),
    (b'{"product_id": 1', "application/json"),
    (b'{"product_id":1,"rating":4,"summary":"s","body":"b","recommend":true,"name":"n","email":"n@example.com"}',
     "text/plain"),
    (b"product_id=1&rating=4", "application/x-www-form-urlencoded"),
])
def test_post_malformed_json_or_wrong_content_type(own: httpx.Client, content: bytes, content_type: str) -> None:
    r = own.post("/reviews", content=content, headers={"content-type": content_type})
    assert r.status_code == 422 and r.text == INVALID_BODY


def test_post_accepts_numbers_and_booleans_as_strings(own: httpx.Client) -> None:
    """api.md: front ends send `"product_id": "40344"`, characteristic values `"4"`, `"true"`; and a JSON
    number is an integer by value (`5.0`), as the OpenAPI document's JSON Schema says."""
    before = meta(own, 6)
    body = valid_review(product_id="6", rating=5.0, recommend="false", characteristics={"18": "1", "19": 2.0},
                        photos=[])
    r = own.post("/reviews", json=body)
    assert r.status_code == 201 and r.text == "Created"
    after = meta(own, 6)
    assert int(after["ratings"]["5"]) == int(before["ratings"].get("5", "0")) + 1
    assert int(after["recommended"]["false"]) == int(before["recommended"].get("false", "0")) + 1
    assert after["characteristics"]["Size"] != before["characteristics"]["Size"]


def test_post_then_visible_in_list_and_meta(own: httpx.Client) -> None:
    before = meta(own, 1)
    r = own.post("/reviews", json=valid_review(summary="", photos=["https://example.com/b.jpg",
                                                                   "http://example.com/a.jpg"]))
    assert r.status_code == 201 and r.text == "Created"
    newest = own.get("/reviews?product_id=1&sort=newest&count=1").json()["results"][0]
    assert newest["summary"] == "" and newest["body"] == "Fits well, warm enough." and newest["rating"] == 4
    assert newest["recommend"] is True and newest["response"] is None and newest["helpfulness"] == 0
    assert newest["reviewer_name"] == "tester" and newest["date"].endswith("T00:00:00.000Z")
    assert [p["url"] for p in newest["photos"]] == ["https://example.com/b.jpg", "http://example.com/a.jpg"]
    assert newest["photos"][0]["id"] < newest["photos"][1]["id"]
    assert newest["review_id"] > 5774952  # ids continue after the loaded ones
    after = meta(own, 1)
    assert int(after["ratings"]["4"]) == int(before["ratings"].get("4", "0")) + 1
    assert int(after["recommended"]["true"]) == int(before["recommended"]["true"]) + 1
    assert after["characteristics"]["Comfort"] == before["characteristics"]["Comfort"]  # not rated


def test_post_updates_averages_exactly(own: httpx.Client) -> None:
    # product 2's Quality (id 5) starts at 21/5; one more 5 makes 26/6 = 4.3333333333333333
    assert own.post("/reviews", json=valid_review(product_id=2, characteristics={"5": 5}, photos=[])).status_code == 201
    assert meta(own, 2)["characteristics"]["Quality"] == {"id": 5, "value": "4.3333333333333333"}


def test_post_minimal_body_and_limits(own: httpx.Client) -> None:
    body = valid_review(product_id=3, summary=MISSING, photos=MISSING, characteristics=MISSING,
                        body="b" * 1000, name="n" * 60, email="e" * 48 + "@example.com")
    assert own.post("/reviews", json=body).status_code == 201
    assert meta(own, 3)["characteristics"]["Fit"]["value"] is None
    assert meta(own, 3)["ratings"] == {"4": "1"}


def test_post_to_a_product_without_reviews_or_characteristics(own: httpx.Client) -> None:
    assert meta(own, 13) == {"product_id": "13", "ratings": {}, "recommended": {}, "characteristics": {}}
    assert own.post("/reviews", json=valid_review(product_id=13, characteristics={})).status_code == 201
    assert meta(own, 13)["ratings"] == {"4": "1"}
    assert len(own.get("/reviews?product_id=13").json()["results"]) == 1


def test_text_is_returned_exactly_as_stored(own: httpx.Client) -> None:
    text = 'Quotes " and \\ backslash, <b>tags</b> & émoji 🎉\nnew line'
    assert own.post("/reviews", json=valid_review(product_id=14, body=text, characteristics={})).status_code == 201
    assert own.get("/reviews?product_id=14&sort=newest").json()["results"][0]["body"] == text


def test_helpful_adds_one_and_reorders(own: httpx.Client) -> None:
    before = {r["review_id"]: r["helpfulness"] for r in own.get("/reviews?product_id=5&count=50").json()["results"]}
    assert before == {11: 12, 12: 3}
    for _ in range(10):
        r = own.put("/reviews/12/helpful")
        assert r.status_code == 204 and r.content == b""
    body = own.get("/reviews?product_id=5&sort=helpful").json()
    assert ids(body) == [12, 11] and body["results"][0]["helpfulness"] == 13


def test_report_hides_but_meta_still_counts(own: httpx.Client) -> None:
    ratings = meta(own, 4)["ratings"]
    assert own.put("/reviews/9/report").status_code == 204
    assert own.put("/reviews/9/report").status_code == 204  # again: still 204
    for sort in ("relevant", "helpful", "newest"):
        assert 9 not in ids(own.get(f"/reviews?product_id=4&sort={sort}").json())
    assert meta(own, 4)["ratings"] == ratings


@pytest.mark.parametrize("action", ["helpful", "report"])
def test_unknown_review_is_404_json(own: httpx.Client, action: str) -> None:
    r = own.put(f"/reviews/4242424/{action}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": "review not found"}


@pytest.mark.parametrize("review_id", ["hello", "5.55", "-1", "0", "99999999999999999999"])
@pytest.mark.parametrize("action", ["helpful", "report"])
def test_malformed_review_id_is_422(own: httpx.Client, review_id: str, action: str) -> None:
    r = own.put(f"/reviews/{review_id}/{action}")
    assert r.status_code == 422 and r.text == "Error: invalid review_id provided"


def test_get_is_not_a_write(own: httpx.Client) -> None:
    assert own.get("/reviews/1/helpful").status_code == 405
