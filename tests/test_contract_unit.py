"""In-process tests of the declarations the contract is made of (core/values.py, params.py,
bodies.py, openapi.py): a failure here points at one function. The same objects validate requests
and describe them in /openapi.json, so the central property is checked directly: for every
declared value, the validator accepts exactly what its JSON Schema accepts."""

from __future__ import annotations

import random
import re
from typing import Any

import jsonschema
import jsonschema_rs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from atelier.core.bodies import JsonBody, is_json
from atelier.core.config import Settings
from atelier.core.http import HTTPError, Request
from atelier.core.openapi import document, operation_id
from atelier.core.params import COUNT, ID, PAGE, paging
from atelier.core.values import (
    PG_INT_MAX,
    Boolean,
    Integer,
    Invalid,
    Keyword,
    ListOf,
    MapOf,
    Object,
    Optional,
    Text,
    Value,
    decimal_range,
    email,
    url,
)
from atelier.interactions.moments import moment
from atelier.server import create_app

APP = create_app(Settings.from_env())
BODIES: list[JsonBody[Any]] = [route.operation.body for route in APP.router.routes
                               if route.operation is not None and route.operation.body is not None]


def accepts(value: Value[Any], data: Any) -> bool:
    try:
        value.parse(data)
    except Invalid:
        return False
    return True


_VALIDATORS: dict[str, tuple[Any, Any]] = {}


def schema_accepts(schema: dict[str, Any], data: Any) -> bool:
    """Both a Python (re) and a Rust JSON Schema validator, which must agree."""
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode()
    if key not in _VALIDATORS:
        _VALIDATORS[key] = (jsonschema.Draft202012Validator(schema), jsonschema_rs.validator_for(schema))
    python, rust = (v.is_valid(data) for v in _VALIDATORS[key])
    assert python == rust, (schema, data)
    return python


# --- numerals ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("low", "high"), [(0, 0), (1, 5), (0, 100), (7, 1234), (99, 101), (1, 99_999)])
def test_decimal_range_matches_exactly_the_numerals_of_small_ranges(low: int, high: int) -> None:
    pattern = re.compile(decimal_range(low, high))
    for n in range(0, 2 * high + 20):
        assert bool(pattern.fullmatch(str(n))) == (low <= n <= high), n


@pytest.mark.parametrize(("low", "high"), [(1, PG_INT_MAX), (0, 2**63 - 1), (13, 987_654_321_987)])
def test_decimal_range_of_large_ranges(low: int, high: int) -> None:
    pattern = re.compile(decimal_range(low, high))
    rng = random.Random(7)
    for n in [low, high, low - 1, high + 1, 10 ** len(str(high)), *(rng.randint(0, 2 * high) for _ in range(5000))]:
        assert bool(pattern.fullmatch(str(n))) == (low <= n <= high), n
    for text in ["", "0" + str(high), "+1", "-1", " 1", "1 ", "1.0", "1e3", "١٣"]:
        assert not pattern.fullmatch(text), text


# --- values: what is accepted --------------------------------------------------------------------

RATING = Integer(1, 5)


@pytest.mark.parametrize("data", [1, 5, 3.0, "1", "5"])
def test_integer_accepts(data: Any) -> None:
    assert RATING.parse(data) == int(data)


@pytest.mark.parametrize("data", [0, 6, True, False, 4.5, "0", "6", "05", "+5", " 5", "5 ", "5.0", "five", "٥",
                                  None, [5], {"5": 5}, float("nan"), float("inf")])
def test_integer_refuses(data: Any) -> None:
    with pytest.raises(Invalid):
        RATING.parse(data)


def test_integer_without_strings_refuses_strings() -> None:
    with pytest.raises(Invalid):
        Integer(1, 5, strings=False).parse("3")


def test_a_huge_digit_string_is_refused_without_converting_it() -> None:
    with pytest.raises(Invalid):
        ID.parse("9" * 5000)  # int() of 5000 digits would raise ValueError (and cost time)


@pytest.mark.parametrize(("data", "expected"), [(True, True), (False, False), ("true", True), ("false", False)])
def test_boolean_accepts(data: Any, expected: bool) -> None:
    assert Boolean().parse(data) is expected


@pytest.mark.parametrize("data", ["True", "FALSE", "1", "0", 1, 0, None, "yes", ""])
def test_boolean_refuses(data: Any) -> None:
    with pytest.raises(Invalid):
        Boolean().parse(data)


@pytest.mark.parametrize(("value", "data", "ok"), [
    (Text(1, 5), "hello", True), (Text(1, 5), "hello!", False), (Text(1, 5), "", False),
    (Text(1, 5), " \t\n", False), (Text(1, 5), "\u3000\ufeff", False), (Text(1, 5), " a ", True),
    (Text(1, 5), "a\x00", False), (Text(0, 5), "", True), (Text(0, 5), "   ", True), (Text(0, 5), "\x00", False),
    (Text(1, 5), 5, False), (Text(1, 5), None, False), (Text(1, 9), "é😀\u200b", True),
    (email(), "a.b+c@example.co.uk", True), (email(), "a@b", False), (email(), "a b@example.com", False),
    (email(), "a@example.com\n", False), (email(), "a..b@example.com", False), (email(), "a@-x.com", False),
    (email(), "é@example.com", False), (email(), "e" * 49 + "@example.com", False),
    (url(), "https://images.example.com/a.jpg?w=668&q=80", True), (url(), "http://localhost:8080/x", True),
    (url(), "ftp://example.com/a", False), (url(), "https://", False), (url(), "javascript:alert(1)", False),
    (url(), "https://exa mple.com/", False), (url(), "https://example.com/a b", False),
    (url(), "https://user@example.com/", False), (url(), "HTTPS://example.com/", False),
])
def test_text_email_and_url_rules(value: Text, data: Any, ok: bool) -> None:
    assert accepts(value, data) is ok
    assert schema_accepts(value.schema(), data) is ok


def test_keyword_reads_any_other_string_as_the_fallback() -> None:
    sort = Keyword(("relevant", "helpful", "newest"), "relevant")
    assert [sort.parse(s) for s in ("newest", "relevance", "", "NEWEST")] == ["newest", "relevant", "relevant",
                                                                             "relevant"]


def test_object_members_defaults_and_extras() -> None:
    shape: Object[dict[str, Any]] = Object(dict, {"a": RATING, "b": Optional(ListOf(url(), 2, null_is_empty=True), [])})
    assert shape.parse({"a": "2", "extra": [1]}) == {"a": 2, "b": []}
    assert shape.parse({"a": 2, "b": None}) == {"a": 2, "b": []}
    bad: object
    for bad in ({}, {"a": 2, "b": ["x"]}, {"a": 2, "b": ["https://a.b"] * 3}, [], None, "a"):
        assert not accepts(shape, bad)


def test_map_keys_are_ids_written_as_strings() -> None:
    ratings = MapOf(ID, RATING)
    assert ratings.parse({"14": "5", "15": 1}) == {14: 5, 15: 1}
    for bad in ({"0": 5}, {"01": 5}, {"Fit": 5}, {"14": 6}, [5]):
        assert not accepts(ratings, bad)


# --- values: the validator and the document agree ------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 2**32) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12) | st.sampled_from(["13", "0", "01", "true", "false", "a@b.co", "https://a.b/c", " ", ""]),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(["1", "5", "01", "x"]), inner,
                                                                max_size=3),
    max_leaves=8)
VALUES: list[Value[Any]] = [RATING, ID, Integer(0, 2**63 - 1), Boolean(), Text(1, 6), Text(0, 6), email(), url(),
                            ListOf(url(), 2), ListOf(RATING, 3, null_is_empty=True), MapOf(ID, RATING)]


@settings(max_examples=250, derandomize=True, deadline=None, database=None)
@given(data=JSON)
def test_every_value_accepts_exactly_what_its_schema_accepts(data: Any) -> None:
    for value in VALUES:
        assert accepts(value, data) == schema_accepts(value.schema(), data), (value, data)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.invalid)
def test_every_body_example_is_valid(body: JsonBody[Any]) -> None:
    assert accepts(body.shape, body.example) and schema_accepts(body.shape.schema(), body.example)


def _members(body: JsonBody[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies near the example: each member kept, dropped or replaced by a random JSON value."""
    example = body.example
    return st.fixed_dictionaries({}, optional={name: st.just(v) | JSON for name, v in example.items()})


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.invalid)
def test_every_body_accepts_exactly_what_its_schema_accepts(body: JsonBody[Any]) -> None:
    schema = body.shape.schema()

    @settings(max_examples=150, derandomize=True, deadline=None, database=None)
    @given(data=_members(body))
    def agree(data: dict[str, Any]) -> None:
        assert accepts(body.shape, data) == schema_accepts(schema, data), data

    agree()


# --- parameters ----------------------------------------------------------------------------------

def request(path_params: dict[str, str] | None = None, query: str = "", headers: dict[str, str] | None = None,
            body: bytes = b"") -> Request:
    r = Request(APP, "GET", "/", query, headers or {}, body)
    r.params = path_params or {}
    return r


@pytest.mark.parametrize(("query", "expected"), [
    ("", (5, 0, 5)), ("page=3&count=10", (10, 20, 10)), ("page=&count=", (5, 0, 5)), ("count=0&page=9", (0, 0, 0)),
    ("count=9007199254740991", (9007199254740991, 0, 1000)), ("page=2&page=7", (5, 5, 5)),
])
def test_paging(query: str, expected: tuple[int, int, int]) -> None:
    assert paging(request(query=query)) == expected


@pytest.mark.parametrize(("query", "text"), [
    ("page=0", "Error: invalid page provided"), ("page=-1", "Error: invalid page provided"),
    ("page=1.5", "Error: invalid page provided"), ("count=-1", "Error: invalid count provided"),
    ("count=x", "Error: invalid count provided"), ("count=9223372036854775808", "Error: invalid count provided"),
    ("page=%201", "Error: invalid page provided"), ("count=05", "Error: invalid count provided"),
])
def test_bad_paging_is_a_422_with_the_legacy_text(query: str, text: str) -> None:
    with pytest.raises(HTTPError) as caught:
        paging(request(query=query))
    assert (caught.value.status, caught.value.message) == (422, text)


@pytest.mark.parametrize("raw", ["hello", "5.55", "-1", "0", "99999999999999999999", "2147483648", " 1", "01", ""])
def test_bad_path_ids(raw: str) -> None:
    from atelier.products.contract import PRODUCT_ID

    with pytest.raises(HTTPError) as caught:
        PRODUCT_ID.read(request({"product_id": raw}))
    assert (caught.value.status, caught.value.message) == (422, "Error: invalid product_id provided")


def test_path_id_bounds() -> None:
    from atelier.products.contract import PRODUCT_ID

    assert PRODUCT_ID.read(request({"product_id": "1"})) == 1
    assert PRODUCT_ID.read(request({"product_id": "2147483647"})) == PG_INT_MAX


def test_parameter_descriptions_match_their_parsing() -> None:
    page, count = PAGE.describe(), COUNT.describe()
    assert page["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "default": 1}
    assert count["schema"]["minimum"] == 0 and count["allowEmptyValue"] is True and "required" not in count


# --- bodies --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("content_type", "ok"), [
    ("application/json", True), ("application/json; charset=utf-8", True), ("Application/JSON ; charset=UTF-8", True),
    (None, False), ("", False), ("text/plain", False), ("application/x-www-form-urlencoded", False),
    ("multipart/form-data; boundary=x", False), ("application/json-patch+json", False), ("application/jsonx", False),
])
def test_only_json_content_types(content_type: str | None, ok: bool) -> None:
    assert is_json(content_type) is ok


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.invalid)
@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b'"\\ud800"', b"[]", b"null", b'{"a": 1,}'])
def test_malformed_bodies_are_422_with_the_route_text(body: JsonBody[Any], raw: bytes) -> None:
    with pytest.raises(HTTPError) as caught:
        body.read(request(headers={"content-type": "application/json"}, body=raw))
    assert (caught.value.status, caught.value.message) == (422, body.invalid)


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.invalid)
def test_a_valid_body_with_another_content_type_is_422(body: JsonBody[Any]) -> None:
    raw = orjson.dumps(body.example)
    assert body.read(request(headers={"content-type": "application/json"}, body=raw)) is not None
    with pytest.raises(HTTPError) as caught:
        body.read(request(headers={"content-type": "text/plain"}, body=raw))
    assert caught.value.status == 422


# --- the document --------------------------------------------------------------------------------

def test_every_registered_route_is_described() -> None:
    """A route registered without an Operation (summary, parameters, body, answers) fails here."""
    undescribed = [f"{r.method} {r.template}" for r in APP.router.routes if r.operation is None]
    assert undescribed == []
    for route in APP.router.routes:
        assert route.operation is not None and route.operation.summary
        assert all(answer.description for answer in route.operation.answers(route.method))


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = document(APP.router.routes, "test")
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    served = {(r.method.lower(), r.template) for r in APP.router.routes}
    assert {(m, p) for p, ops in spec["paths"].items() for m in ops} == served


def test_operation_ids_are_unique_and_links_point_at_them() -> None:
    spec = document(APP.router.routes, "test")
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for ops in spec["paths"].values():
        for op in ops.values():
            for response in op["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in ids
    assert operation_id("GET", "/qa/questions/{question_id}/answers") == "get_qa_questions_question_id_answers"


def test_every_status_a_route_can_give_is_documented() -> None:
    spec = document(APP.router.routes, "test")
    reviews = spec["paths"]["/reviews"]
    assert set(reviews["get"]["responses"]) == {"200", "405", "422", "503"}
    assert set(reviews["post"]["responses"]) == {"201", "405", "413", "422", "503"}
    assert set(spec["paths"]["/reviews/{review_id}/helpful"]["put"]["responses"]) == {"204", "404", "405", "413",
                                                                                      "422", "503"}
    assert set(spec["paths"]["/metrics"]["get"]["responses"]) == {"200", "405"}
    created = reviews["post"]["responses"]["201"]["content"]["text/plain"]["schema"]
    assert created == {"type": "string", "enum": ["Created"]}
    invalid = spec["paths"]["/qa/questions/{question_id}/answers"]["post"]["responses"]["422"]
    assert invalid["content"]["text/plain"]["schema"]["enum"] == ["Error: invalid question_id provided",
                                                                  "Error: Answer body contains invalid entries"]


# --- interaction times ---------------------------------------------------------------------------

@pytest.mark.parametrize(("time", "iso"), [
    ("2021-03-01T17:03:11.123Z", "2021-03-01T17:03:11.123000+00:00"),
    ('"2021-03-01T17:03:11.123Z"', "2021-03-01T17:03:11.123000+00:00"),
    ("Mon Mar 01 2021 18:03:11 GMT+0100 (Central European Standard Time)", "2021-03-01T17:03:11+00:00"),
    ("Mon Mar 01 2021 12:03:11 GMT-0500", "2021-03-01T17:03:11+00:00"),
    ("1614618191123", "2021-03-01T17:03:11.123000+00:00"), ("0", "1970-01-01T00:00:00+00:00"),
])
def test_times_front_ends_send(time: str, iso: str) -> None:
    found = moment(time)
    assert found is not None and found.isoformat() == iso


@pytest.mark.parametrize("time", ["yesterday", "", "Mon Foo 01 2021 12:03:11 GMT+0000", "99999999999999999",
                                  "2021-02-30", "Mon Mar 01 2021 12:03:11 GMT+9900", "0001-01-01T00:00:00+01:00"])
def test_times_that_name_no_moment(time: str) -> None:
    assert moment(time) is None
