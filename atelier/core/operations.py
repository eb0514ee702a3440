"""What a route takes and answers, declared next to its handler (`@router.get(path, Operation(...))`).

The handler reads its parameters and body through the same `Param` and `JsonBody` objects that the
OpenAPI document is built from, and the answers a route can give follow from its declaration: a
422 for each legacy text of its parameters and body, a 404 where the path names a resource, a 413
for a body (and for any PUT), a 503 where it reads the database, and a 405 for the other methods of its path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .bodies import JsonBody
from .params import Param

JSON = "application/json"
TEXT = "text/plain"

ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


@dataclass(frozen=True, slots=True)
class Answer:
    """One documented response: its status, media type (None: no body) and body schema."""

    status: int
    description: str
    media_type: str | None = JSON
    schema: dict[str, Any] = field(default_factory=dict)
    example: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # header name -> description

    def describe(self) -> dict[str, Any]:
        """The OpenAPI Response Object."""
        response: dict[str, Any] = {"description": self.description}
        if self.media_type is not None:
            media: dict[str, Any] = {"schema": self.schema}
            if self.example is not None:
                media["example"] = self.example
            response["content"] = {self.media_type: media}
        if self.headers:
            response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                   for name, text in self.headers.items()}
        return response


def json_answer(status: int, description: str, schema: dict[str, Any], example: Any = None) -> Answer:
    return Answer(status, description, JSON, schema, example)


def text_answer(status: int, description: str, *texts: str) -> Answer:
    """A plain-text answer whose body is one of `texts`."""
    return Answer(status, description, TEXT, {"type": "string", "enum": list(texts)}, texts[0])


CREATED = text_answer(201, "Created (stored before this answer is sent)", "Created")
NO_CONTENT = Answer(204, "Done", None)
BODY_METHODS = ("POST", "PUT")  # whose request body the server reads, and refuses beyond 1 MiB (core/rsgi.py)
TOO_LARGE = text_answer(413, "The request body is larger than 1 MiB", "Request body too large")
UNAVAILABLE = json_answer(503, "The database is unavailable (answered quickly, not a hang)", ERROR_SCHEMA)
WRONG_METHOD = json_answer(405, "Another method than the ones this path answers", ERROR_SCHEMA,
                           {"error": "method not allowed"})


@dataclass(frozen=True, slots=True)
class Operation:
    summary: str
    answer: Answer  # the success
    params: tuple[Param[Any], ...] = ()
    body: JsonBody[Any] | None = None
    not_found: str = ""  # what a well-formed unknown id in the path names: a 404 {"error": "<it> not found"}
    database: bool = True  # reads or writes PostgreSQL: a 503 when it is down
    description: str = ""
    links: dict[str, dict[str, Any]] = field(default_factory=dict)  # OpenAPI links from the success
    tags: tuple[str, ...] = ()

    def answers(self, method: str) -> list[Answer]:
        """Every answer the route gives to `method`, by status."""
        answers = [self.answer]
        invalid = [p.invalid for p in self.params if p.invalid] + ([self.body.invalid] if self.body else [])
        if invalid:  # one 422 whose body is one of the legacy texts
            answers.append(text_answer(422, "Invalid input (the legacy plain-text message)", *dict.fromkeys(invalid)))
        if self.not_found:
            answers.append(json_answer(404, f"No such {self.not_found}", ERROR_SCHEMA,
                                       {"error": f"{self.not_found} not found"}))
        if self.body is not None or method in BODY_METHODS:
            answers.append(TOO_LARGE)
        if self.database:
            answers.append(UNAVAILABLE)
        answers.append(WRONG_METHOD)
        return sorted(answers, key=lambda a: a.status)
