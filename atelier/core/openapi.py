"""`/openapi.json`, built from the routes' declarations (core/operations.py): the same `Param` and
`JsonBody` objects validate the requests, so the document describes the API that is served."""

from __future__ import annotations

import re
from typing import Any

from .http import Route

DESCRIPTION = """The Atelier retail API: Products, Reviews, Questions & Answers, Cart and Interactions, \
as the legacy API served them.

- Invalid input is a **422** with a plain-text legacy message; a well-formed id that does not exist in a \
path is a **404** `{"error": "..."}`; a database that is down is a **503**, quickly.
- Ids are positive 32-bit integers written in decimal, without a sign or leading zeros.
- Every POST takes `Content-Type: application/json` (a `charset` parameter is fine); another type, \
malformed JSON or invalid UTF-8 is a 422 with the endpoint's message.
- In JSON bodies an integer may also be sent as a string of decimal digits (`"13"`) and a boolean as \
`"true"`/`"false"`; a number with a fraction or an exponent (`1.0`) is never an integer.
- Text fields may not contain NUL and, where they may not be empty, may not be only whitespace.
- Money is a string with two decimals (`"140.00"`); dates are midnight UTC of the stored day."""

_PARAM = re.compile(r"\{(\w+)\}")


def operation_id(method: str, template: str) -> str:
    """`GET /qa/questions/{question_id}/answers` -> `get_qa_questions_question_id_answers`."""
    return "_".join([method.lower(), *re.findall(r"[A-Za-z0-9]+", template)])


def document(routes: list[Route], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for route in routes:
        operation = route.operation
        if operation is None:  # left out rather than failing the document; a unit test fails for it
            continue
        described: dict[str, Any] = {"operationId": operation_id(route.method, route.template),
                                     "summary": operation.summary}
        if operation.description:
            described["description"] = operation.description
        if operation.tags:
            described["tags"] = list(operation.tags)
            tags.update(dict.fromkeys(operation.tags))
        if operation.params:
            described["parameters"] = [p.describe() for p in operation.params]
        declared = {p.name for p in operation.params if p.where == "path"}
        if declared != set(_PARAM.findall(route.template)):
            raise ValueError(f"{route.method} {route.template} declares path parameters {sorted(declared)}")
        if operation.body is not None:
            described["requestBody"] = operation.body.describe()
        responses = {str(a.status): a.describe() for a in operation.answers(route.method)}
        if operation.links:
            responses[str(operation.answer.status)]["links"] = operation.links
        described["responses"] = responses
        paths.setdefault(route.template, {})[route.method.lower()] = described
    return {
        "openapi": "3.1.0",
        "info": {"title": "atelier", "version": version, "description": DESCRIPTION},
        "tags": [{"name": name} for name in tags],
        "paths": paths,
    }
