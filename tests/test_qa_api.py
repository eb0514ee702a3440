"""The Questions and Answers contract (spec/api.md) through the real HTTP server.

The legacy sample has the real questions 1-9 but no answers files, so this module loads the
sample plus the small answers/photos fixtures below into a database of its own and serves it
with two worker processes (a write must be visible through every process). Read tests use
products 1 and 2; write tests use other products, or questions they create.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import loaded_server, sample_copy

INVALID_PRODUCT = "Error: invalid product_id provided"
INVALID_QUESTION = "Error: Question body contains invalid entries"
INVALID_ANSWER = "Error: Answer body contains invalid entries"

# Answers of the real questions 1-9 (questions 2, 6, 8 are reported). Ids 8 and 7 are swapped,
# answers are not grouped by question, answer 5 is reported.
ANSWERS = (
    "id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful\n"
    '1,1,"Something pretty soft but I can\'t be sure",1599958871179,"metslover","first.last@gmail.com",0,5\n'
    '2,1,"It\'s 100% cotton, the tag says ""so"".",1599990000000,"Seller","seller@gmail.com",0,8\n'
    '4,3,"It runs small, order one size up.",1608535907083,"Seller","seller@gmail.com",0,14\n'
    '3,1,"Supposedly suede, but I think its synthetic",1600000000000,"sillyguy","x@y.com",0,5\n'
    '5,3,"THIS IS A REPORTED ANSWER",1608600000000,"jbilas","first.last@gmail.com",1,20\n'
    '6,5,"Yes, cold water and hang dry. #tips",1608855284662,"Seller","seller@gmail.com",0,9\n'
    '8,7,"Made in Portugal",1590428073460,"Seller","seller@gmail.com",0,6\n'
    '7,9,"No, it does not contain dye #17!!!!?",1598026382276,"Seller","seller@gmail.com",0,6\n'
    '9,2,"An answer to a reported question",1613888219613,"jbilas","first.last@gmail.com",0,1\n'
    '10,3,"True to size for me",1609000000000,"dschulman","d@s.com",0,14\n'
    '11,7,"China, according to the tag",1590500000000,"tagreader","t@r.com",0,1\n'
)
PHOTOS = (
    "id,answer_id,url\n"
    '1,2,"https://images.example.com/tag.jpg?w=668&q=80"\n'
    '2,2,"https://images.example.com/label.jpg"\n'
    '3,4,"https://images.example.com/fit.jpg"\n'
    '4,5,"https://images.example.com/reported.jpg"\n'
)


def day(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT00:00:00.000Z")


def write_data(folder: Path) -> Path:
    """The legacy sample (products, reviews, questions) plus the answers fixtures."""
    return sample_copy(folder, answers=ANSWERS, answers_photos=PHOTOS)


@pytest.fixture(scope="module")
def qa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = write_data(tmp_path_factory.mktemp("qa") / "data")
    with loaded_server(data, "products", "qa") as url:
        yield url


@pytest.fixture(scope="module")
def qa(qa_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=qa_url, timeout=10) as c:
        yield c


def questions(client: httpx.Client, product_id: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/qa/questions", params={"product_id": product_id, "count": 100, **params})
    assert r.status_code == 200
    return r.json()["results"]


def question_ids(client: httpx.Client, product_id: int, **params: Any) -> list[int]:
    return [q["question_id"] for q in questions(client, product_id, **params)]


# --- GET /qa/questions -----------------------------------------------------------------------------

def test_legacy_orders_and_reported_questions_hidden(qa: httpx.Client) -> None:
    assert question_ids(qa, 1) == [3, 5, 4, 1]  # helpfulness 8, 7, 6, 1; question 2 and 6 reported
    assert question_ids(qa, 2) == [9, 7]  # question 8 reported


def test_question_fields_exactly_as_the_contract(qa: httpx.Client) -> None:
    r = qa.get("/qa/questions", params={"product_id": 1})
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["product_id", "results"] and body["product_id"] == "1"
    first = body["results"][0]
    assert list(first) == ["question_id", "question_body", "question_date", "asker_name", "question_helpfulness",
                           "reported", "answers"]
    assert first["question_id"] == 3 and first["question_body"] == "Does this product run big or small?"
    assert first["question_date"] == day(1608535907083) == "2020-12-21T00:00:00.000Z"
    assert first["asker_name"] == "jbilas" and first["question_helpfulness"] == 8 and first["reported"] is False
    assert "email" not in r.text


def test_answers_embedded_as_an_object_keyed_by_id(qa: httpx.Client) -> None:
    by_id = {q["question_id"]: q for q in questions(qa, 1)}
    answers = by_id[3]["answers"]
    assert list(answers) == ["4", "10"]  # answer 5 is reported; 4 and 10 tie on 14: id order
    assert answers["4"] == {"id": 4, "body": "It runs small, order one size up.", "date": day(1608535907083),
                            "answerer_name": "Seller", "helpfulness": 14,
                            "photos": ["https://images.example.com/fit.jpg"]}
    assert answers["10"]["photos"] == []
    assert list(by_id[1]["answers"]) == ["2", "1", "3"]  # helpfulness 8, then 5 and 5 by id
    assert by_id[1]["answers"]["2"]["body"] == 'It\'s 100% cotton, the tag says "so".'
    assert by_id[1]["answers"]["2"]["photos"] == ["https://images.example.com/tag.jpg?w=668&q=80",
                                                  "https://images.example.com/label.jpg"]
    assert by_id[4]["answers"] == {}
    assert list(questions(qa, 2)[1]["answers"]) == ["8", "11"]


def test_product_without_questions(qa: httpx.Client) -> None:
    for product_id in (3, 424242):
        r = qa.get("/qa/questions", params={"product_id": product_id})
        assert r.status_code == 200 and r.json() == {"product_id": str(product_id), "results": []}


def test_paging(qa: httpx.Client) -> None:
    assert question_ids(qa, 1, count=2) == [3, 5]
    assert question_ids(qa, 1, page=2, count=2) == [4, 1]
    assert question_ids(qa, 1, page=3, count=2) == []
    assert question_ids(qa, 1, count=9007199254740991) == [3, 5, 4, 1]
    assert question_ids(qa, 1, page=99999999999, count=9007199254740991) == []
    default = qa.get("/qa/questions", params={"product_id": 1}).json()["results"]
    assert [q["question_id"] for q in default] == [3, 5, 4, 1]


@pytest.mark.parametrize("bad", ["hello", "5.55", "-1", "0", "99999999999999999999", "2147483648", "", " 1"])
def test_invalid_product_id_is_422(qa: httpx.Client, bad: str) -> None:
    r = qa.get("/qa/questions", params={"product_id": bad})
    assert r.status_code == 422 and r.text == INVALID_PRODUCT


def test_missing_product_id_is_422(qa: httpx.Client) -> None:
    r = qa.get("/qa/questions")
    assert r.status_code == 422 and r.text == INVALID_PRODUCT


@pytest.mark.parametrize("params", [{"page": "0"}, {"count": "-1"}, {"count": "x"}])
def test_bad_paging_is_422(qa: httpx.Client, params: dict[str, str]) -> None:
    assert qa.get("/qa/questions", params={"product_id": 1, **params}).status_code == 422


# --- GET /qa/questions/:id/answers -----------------------------------------------------------------

def test_answers_list(qa: httpx.Client) -> None:
    r = qa.get("/qa/questions/3/answers")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["question", "page", "count", "results"]
    assert body["question"] == "3" and body["page"] == 0 and body["count"] == 5
    assert [a["answer_id"] for a in body["results"]] == [4, 10]
    first = body["results"][0]
    assert list(first) == ["answer_id", "body", "date", "answerer_name", "helpfulness", "photos"]
    assert first["photos"] == [{"id": 3, "url": "https://images.example.com/fit.jpg"}]
    assert first["date"] == day(1608535907083) and first["helpfulness"] == 14
    one = qa.get("/qa/questions/1/answers").json()["results"]
    assert [a["answer_id"] for a in one] == [2, 1, 3]
    assert [p["id"] for p in one[0]["photos"]] == [1, 2]
    assert "email" not in r.text


def test_answers_paging_echoes_the_offset(qa: httpx.Client) -> None:
    body = qa.get("/qa/questions/1/answers", params={"page": 2, "count": 2}).json()
    assert body["page"] == 2 and body["count"] == 2
    assert [a["answer_id"] for a in body["results"]] == [3]
    body = qa.get("/qa/questions/1/answers", params={"page": 3, "count": 2}).json()
    assert body["page"] == 4 and body["results"] == []


def test_question_without_answers(qa: httpx.Client) -> None:
    body = qa.get("/qa/questions/4/answers").json()
    assert body == {"question": "4", "page": 0, "count": 5, "results": []}


def test_unknown_question_is_404(qa: httpx.Client) -> None:
    r = qa.get("/qa/questions/424242/answers")
    assert r.status_code == 404 and r.json() == {"error": "question not found"}


@pytest.mark.parametrize("bad", ["hello", "5.55", "-1", "0", "99999999999999999999"])
def test_malformed_question_id_is_422(qa: httpx.Client, bad: str) -> None:
    assert qa.get(f"/qa/questions/{bad}/answers").status_code == 422
    assert qa.put(f"/qa/questions/{bad}/helpful").status_code == 422
    assert qa.put(f"/qa/answers/{bad}/report").status_code == 422
    r = qa.post(f"/qa/questions/{bad}/answers", json={"body": "b", "name": "n", "email": "a@b.co"})
    assert r.status_code == 422


# --- POST /qa/questions ----------------------------------------------------------------------------

def ask(client: httpx.Client, product_id: int, body: str = "Is it warm?", **fields: Any) -> httpx.Response:
    payload = {"body": body, "name": "asker", "email": "asker@example.com", "product_id": product_id, **fields}
    return client.post("/qa/questions", json=payload)


def new_question(client: httpx.Client, product_id: int, body: str) -> int:
    r = ask(client, product_id, body)
    assert r.status_code == 201 and r.text == "Created"
    return next(q["question_id"] for q in questions(client, product_id) if q["question_body"] == body)


def test_post_question_is_listed_at_once(qa: httpx.Client) -> None:
    question_id = new_question(qa, 5, "Does it come in green?")
    assert question_id > 9  # ids continue after the loaded ones
    listed = next(q for q in questions(qa, 5) if q["question_id"] == question_id)
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z")
    assert listed == {"question_id": question_id, "question_body": "Does it come in green?",
                      "question_date": today, "asker_name": "asker", "question_helpfulness": 0,
                      "reported": False, "answers": {}}
    r = qa.get(f"/qa/questions/{question_id}/answers")
    assert r.status_code == 200 and r.json()["results"] == []


def test_post_question_limits_are_inclusive(qa: httpx.Client) -> None:
    r = ask(qa, 6, "x" * 1000, name="n" * 60, email=("e" * 48) + "@example.com")
    assert r.status_code == 201


def test_post_question_to_unknown_product_is_422(qa: httpx.Client) -> None:
    r = ask(qa, 424242)
    assert r.status_code == 422 and r.text == INVALID_QUESTION


GOOD_QUESTION = {"body": "Is it warm?", "name": "asker", "email": "asker@example.com", "product_id": 6}
INVALID_QUESTIONS = [
    {**GOOD_QUESTION, "body": ""}, {**GOOD_QUESTION, "body": "x" * 1001}, {**GOOD_QUESTION, "body": "   "},
    {**GOOD_QUESTION, "body": None}, {**GOOD_QUESTION, "body": 42}, {**GOOD_QUESTION, "name": ""},
    {**GOOD_QUESTION, "name": "n" * 61}, {**GOOD_QUESTION, "email": "not-an-email"},
    {**GOOD_QUESTION, "email": "a@b"}, {**GOOD_QUESTION, "email": ("e" * 49) + "@example.com"},
    {**GOOD_QUESTION, "product_id": "06"}, {**GOOD_QUESTION, "product_id": "six"},
    {**GOOD_QUESTION, "product_id": 0}, {**GOOD_QUESTION, "product_id": True},
    {**GOOD_QUESTION, "product_id": 6.5}, {**GOOD_QUESTION, "product_id": 2**31},
    {**GOOD_QUESTION, "body": "nul \u0000 byte"},
    {k: v for k, v in GOOD_QUESTION.items() if k != "email"}, {k: v for k, v in GOOD_QUESTION.items() if k != "body"},
    [GOOD_QUESTION], "a string", None,
]


def test_post_question_with_product_id_as_a_string(qa: httpx.Client) -> None:
    """api.md: an integer field also accepts a string of decimal digits."""
    before = len(qa.get("/qa/questions?product_id=6&count=100").json()["results"])
    assert qa.post("/qa/questions", json={**GOOD_QUESTION, "product_id": "6"}).status_code == 201
    assert len(qa.get("/qa/questions?product_id=6&count=100").json()["results"]) == before + 1


@pytest.mark.parametrize("payload", INVALID_QUESTIONS)
def test_invalid_question_is_422(qa: httpx.Client, payload: Any) -> None:
    r = qa.post("/qa/questions", json=payload)
    assert r.status_code == 422 and r.text == INVALID_QUESTION


@pytest.mark.parametrize("raw", [b"{", b"", b"not json", b'{"body": "x",}', b"\xff\xfe"])
def test_malformed_json_is_422(qa: httpx.Client, raw: bytes) -> None:
    r = qa.post("/qa/questions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.text == INVALID_QUESTION
    r = qa.post("/qa/questions/1/answers", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.text == INVALID_ANSWER


# --- POST /qa/questions/:id/answers ----------------------------------------------------------------

GOOD_ANSWER = {"body": "Yes, very.", "name": "answerer", "email": "answerer@example.com", "photos": []}


def test_post_answer_with_photos_is_listed_at_once(qa: httpx.Client) -> None:
    question_id = new_question(qa, 8, "Will it keep me dry?")
    photos = ["https://images.example.com/one.jpg", "http://images.example.com/two.png?x=1"]
    r = qa.post(f"/qa/questions/{question_id}/answers", json={**GOOD_ANSWER, "photos": photos})
    assert r.status_code == 201 and r.text == "Created"
    listed = qa.get(f"/qa/questions/{question_id}/answers").json()["results"]
    assert len(listed) == 1
    answer = listed[0]
    assert answer["answer_id"] > 11 and answer["body"] == "Yes, very." and answer["helpfulness"] == 0
    assert [p["url"] for p in answer["photos"]] == photos
    assert all(p["id"] > 4 for p in answer["photos"])
    embedded = next(q for q in questions(qa, 8) if q["question_id"] == question_id)["answers"]
    assert list(embedded) == [str(answer["answer_id"])]
    assert embedded[str(answer["answer_id"])]["photos"] == photos


def test_post_answer_without_photos_field(qa: httpx.Client) -> None:
    question_id = new_question(qa, 8, "Does it fold?")
    payload = {k: v for k, v in GOOD_ANSWER.items() if k != "photos"}
    assert qa.post(f"/qa/questions/{question_id}/answers", json=payload).status_code == 201


def test_post_answer_to_unknown_question_is_404(qa: httpx.Client) -> None:
    r = qa.post("/qa/questions/424242/answers", json=GOOD_ANSWER)
    assert r.status_code == 404 and r.json() == {"error": "question not found"}


INVALID_ANSWERS = [
    {**GOOD_ANSWER, "body": ""}, {**GOOD_ANSWER, "body": "x" * 1001}, {**GOOD_ANSWER, "name": "n" * 61},
    {**GOOD_ANSWER, "email": "nope"}, {**GOOD_ANSWER, "email": None},
    {**GOOD_ANSWER, "photos": ["https://x.example/1.jpg"] * 6}, {**GOOD_ANSWER, "photos": ["not a url"]},
    {**GOOD_ANSWER, "photos": ["ftp://x.example/1.jpg"]}, {**GOOD_ANSWER, "photos": [42]},
    {**GOOD_ANSWER, "photos": "https://x.example/1.jpg"}, {**GOOD_ANSWER, "photos": {"a": 1}},
    {k: v for k, v in GOOD_ANSWER.items() if k != "name"}, [GOOD_ANSWER], 17,
]


@pytest.mark.parametrize("payload", INVALID_ANSWERS)
def test_invalid_answer_is_422(qa: httpx.Client, payload: Any) -> None:
    r = qa.post("/qa/questions/1/answers", json=payload)
    assert r.status_code == 422 and r.text == INVALID_ANSWER


# --- PUT helpful / report --------------------------------------------------------------------------

def test_question_helpful_and_report(qa: httpx.Client) -> None:
    low = new_question(qa, 9, "Low one?")
    high = new_question(qa, 9, "High one?")
    assert question_ids(qa, 9)[:2] == [low, high]  # both 0: id order
    r = qa.put(f"/qa/questions/{high}/helpful")
    assert r.status_code == 204 and r.content == b""
    assert question_ids(qa, 9)[:2] == [high, low]
    assert qa.put(f"/qa/questions/{high}/report").status_code == 204
    assert high not in question_ids(qa, 9)
    assert qa.put(f"/qa/questions/{high}/report").status_code == 204  # reporting twice is harmless


def test_answer_helpful_and_report(qa: httpx.Client) -> None:
    question_id = new_question(qa, 10, "Which one?")
    for body in ("first", "second"):
        assert qa.post(f"/qa/questions/{question_id}/answers", json={**GOOD_ANSWER, "body": body}).status_code == 201
    listed = qa.get(f"/qa/questions/{question_id}/answers").json()["results"]
    first, second = (a["answer_id"] for a in listed)
    assert qa.put(f"/qa/answers/{second}/helpful").status_code == 204
    assert [a["answer_id"] for a in qa.get(f"/qa/questions/{question_id}/answers").json()["results"]] == [second, first]
    embedded = next(q for q in questions(qa, 10) if q["question_id"] == question_id)["answers"]
    assert list(embedded) == [str(second), str(first)] and embedded[str(second)]["helpfulness"] == 1
    assert qa.put(f"/qa/answers/{second}/report").status_code == 204
    assert [a["answer_id"] for a in qa.get(f"/qa/questions/{question_id}/answers").json()["results"]] == [first]
    embedded = next(q for q in questions(qa, 10) if q["question_id"] == question_id)["answers"]
    assert list(embedded) == [str(first)]


@pytest.mark.parametrize("path", ["/qa/questions/424242/helpful", "/qa/questions/424242/report",
                                  "/qa/answers/424242/helpful", "/qa/answers/424242/report"])
def test_unknown_ids_are_404(qa: httpx.Client, path: str) -> None:
    r = qa.put(path)
    assert r.status_code == 404 and "error" in r.json()


def test_concurrent_helpful_adds_exactly_n(qa_url: str, qa: httpx.Client) -> None:
    question_id = new_question(qa, 11, "Popular?")
    assert qa.post(f"/qa/questions/{question_id}/answers", json=GOOD_ANSWER).status_code == 201
    answer_id = qa.get(f"/qa/questions/{question_id}/answers").json()["results"][0]["answer_id"]

    async def hammer() -> list[int]:
        async with httpx.AsyncClient(base_url=qa_url, timeout=30,
                                     limits=httpx.Limits(max_connections=50)) as c:
            calls = [c.put(f"/qa/questions/{question_id}/helpful") for _ in range(100)]
            calls += [c.put(f"/qa/answers/{answer_id}/helpful") for _ in range(60)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(hammer()) == [204] * 160
    listed = next(q for q in questions(qa, 11) if q["question_id"] == question_id)
    assert listed["question_helpfulness"] == 100
    assert listed["answers"][str(answer_id)]["helpfulness"] == 60
    assert qa.get(f"/qa/questions/{question_id}/answers").json()["results"][0]["helpfulness"] == 60


def test_concurrent_writes_to_one_product_keep_its_document_exact(qa_url: str, qa: httpx.Client) -> None:
    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=qa_url, timeout=30) as c:
            calls = [c.post("/qa/questions", json={**GOOD_QUESTION, "product_id": 12, "body": f"Q{i}"})
                     for i in range(30)]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(burst()) == [201] * 30
    assert sorted(q["question_body"] for q in questions(qa, 12)) == sorted(f"Q{i}" for i in range(30))


def test_openapi_lists_the_qa_routes(qa: httpx.Client) -> None:
    paths = qa.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/qa/questions"])
    assert {"get", "post"} <= set(paths["/qa/questions/{question_id}/answers"])
    for path in ("/qa/questions/{question_id}/helpful", "/qa/questions/{question_id}/report",
                 "/qa/answers/{answer_id}/helpful", "/qa/answers/{answer_id}/report"):
        assert "put" in paths[path]
