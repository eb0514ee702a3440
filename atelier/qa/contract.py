"""The Q&A endpoints' part of the contract: parameters, the POST bodies and the answers (api.md,
"Questions and answers"). The body declarations are both the validation and the OpenAPI schemas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.bodies import JsonBody
from ..core.operations import CREATED, NO_CONTENT, Operation, json_answer
from ..core.params import COUNT, ID, PAGE, path_id, product_id_query
from ..core.schemas import BOOLEAN, DAY, DECIMAL_ID, INTEGER, STRING, array, nullable, record
from ..core.values import ListOf, Object, Optional, Text, email, url

INVALID_QUESTION = "Error: Question body contains invalid entries"
INVALID_ANSWER = "Error: Answer body contains invalid entries"

PRODUCT_ID = product_id_query()
QUESTION_ID = path_id("question_id", "Error: invalid question_id provided", "question", 1)
ANSWER_ID = path_id("answer_id", "Error: invalid answer_id provided", "answer", 5)


@dataclass(frozen=True, slots=True)
class NewQuestion:
    product_id: int
    body: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class NewAnswer:
    body: str
    name: str
    email: str
    photos: list[str]


QUESTION = JsonBody(
    Object(NewQuestion, {"product_id": ID, "body": Text(1, 1000), "name": Text(1, 60), "email": email()}),
    INVALID_QUESTION,
    example={"product_id": 1, "body": "Does it run small?", "name": "shopper", "email": "shopper@example.com"})
ANSWER = JsonBody(
    Object(NewAnswer, {"body": Text(1, 1000), "name": Text(1, 60), "email": email(),
                       "photos": Optional(ListOf(url(), 5, null_is_empty=True), [])}),
    INVALID_ANSWER,
    example={"body": "True to size for me.", "name": "seller", "email": "seller@example.com",
             "photos": ["https://images.example.com/fit.jpg"]})

_ANSWER_FIELDS: dict[str, dict[str, Any]] = {"body": STRING, "date": DAY, "answerer_name": STRING,
                                             "helpfulness": INTEGER}
QUESTION_ELEMENT = record(
    question_id=INTEGER, question_body=STRING, question_date=DAY, asker_name=STRING,
    question_helpfulness=INTEGER, reported=BOOLEAN,
    answers={"type": "object", "propertyNames": {"pattern": "^[0-9]+$"},
             "additionalProperties": record(id=INTEGER, **_ANSWER_FIELDS, photos=array(nullable(STRING)))})
QUESTIONS = record(product_id=DECIMAL_ID, results=array(QUESTION_ELEMENT))
ANSWERS = record(question=DECIMAL_ID, page=INTEGER, count=INTEGER,
                 results=array(record(answer_id=INTEGER, **_ANSWER_FIELDS,
                                      photos=array(record(id=INTEGER, url=nullable(STRING))))))

TAGS = ("questions and answers",)
LIST_QUESTIONS = Operation(
    "A product's questions with their answers",
    json_answer(200, "Questions by helpfulness; `answers` is an object keyed by answer id", QUESTIONS),
    params=(PRODUCT_ID, PAGE, COUNT), tags=TAGS,
    links={"ListAnswers": {"operationId": "get_qa_questions_question_id_answers",
                           "parameters": {"question_id": "$response.body#/results/0/question_id"},
                           "description": "The answers of the first question listed"},
           "Answer": {"operationId": "post_qa_questions_question_id_answers",
                      "parameters": {"question_id": "$response.body#/results/0/question_id"},
                      "description": "Answer the first question listed"},
           "MarkHelpful": {"operationId": "put_qa_questions_question_id_helpful",
                           "parameters": {"question_id": "$response.body#/results/0/question_id"},
                           "description": "The first question listed"}})
LIST_ANSWERS = Operation(
    "A question's answers", json_answer(200, "Answers by helpfulness; `page` echoes the offset", ANSWERS),
    params=(QUESTION_ID, PAGE, COUNT), not_found="question", tags=TAGS,
    links={"MarkHelpful": {"operationId": "put_qa_answers_answer_id_helpful",
                           "parameters": {"answer_id": "$response.body#/results/0/answer_id"},
                           "description": "The first answer listed"},
           "Report": {"operationId": "put_qa_answers_answer_id_report",
                      "parameters": {"answer_id": "$response.body#/results/0/answer_id"},
                      "description": "The first answer listed"}})
ADD_QUESTION = Operation(
    "Ask a question", CREATED, body=QUESTION, tags=TAGS,
    description="An unknown product is a 422 too. `product_id` may be sent as a string of digits.",
    links={"ListQuestions": {"operationId": "get_qa_questions",
                             "parameters": {"product_id": "$request.body#/product_id"},
                             "description": "The new question is listed at once"}})
ADD_ANSWER = Operation(
    "Answer a question", CREATED, params=(QUESTION_ID,), body=ANSWER, not_found="question", tags=TAGS,
    links={"ListAnswers": {"operationId": "get_qa_questions_question_id_answers",
                           "parameters": {"question_id": "$request.path.question_id"},
                           "description": "The new answer is listed at once"}})
QUESTION_HELPFUL = Operation("Mark a question helpful", NO_CONTENT, params=(QUESTION_ID,), not_found="question",
                             tags=TAGS)
QUESTION_REPORT = Operation("Report a question (hides it)", NO_CONTENT, params=(QUESTION_ID,), not_found="question",
                            tags=TAGS)
ANSWER_HELPFUL = Operation("Mark an answer helpful", NO_CONTENT, params=(ANSWER_ID,), not_found="answer", tags=TAGS)
ANSWER_REPORT = Operation("Report an answer (hides it)", NO_CONTENT, params=(ANSWER_ID,), not_found="answer",
                          tags=TAGS)
