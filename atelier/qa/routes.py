"""Questions and answers endpoints: HTTP only. A read is one lookup of a precomputed listing cut to
the page, a write one call of a PL/pgSQL function (queries.py)."""

from __future__ import annotations

from ..core.http import CREATED, NO_CONTENT, HTTPError, Request, Response, Router, not_found, raw_json
from ..core.params import paging
from . import contract, queries

router = Router()


@router.get("/qa/questions", contract.LIST_QUESTIONS)
async def list_questions(request: Request) -> Response:
    product_id = contract.PRODUCT_ID.read(request)
    _, offset, limit = paging(request)
    listing = await queries.questions(request.app, product_id)
    return raw_json(b'{"product_id":"%d","results":[%s]}' % (product_id, b",".join(listing[offset:offset + limit])))


@router.get("/qa/questions/{question_id}/answers", contract.LIST_ANSWERS)
async def list_answers(request: Request) -> Response:
    question_id = contract.QUESTION_ID.read(request)
    count, offset, limit = paging(request)
    listing = await queries.answers(request.app, question_id)
    if listing is None:
        raise not_found("question")
    return raw_json(b'{"question":"%d","page":%d,"count":%d,"results":[%s]}'
                    % (question_id, offset, count, b",".join(listing[offset:offset + limit])))


@router.post("/qa/questions", contract.ADD_QUESTION)
async def add_question(request: Request) -> Response:
    question = contract.QUESTION.read(request)
    if not await queries.add_question(request.app.writes(), question):
        raise HTTPError(422, contract.INVALID_QUESTION)
    await request.app.changed(question.product_id)
    return CREATED


@router.post("/qa/questions/{question_id}/answers", contract.ADD_ANSWER)
async def add_answer(request: Request) -> Response:
    question_id = contract.QUESTION_ID.read(request)
    answer = contract.ANSWER.read(request)
    product_id = await queries.add_answer(request.app.writes(), question_id, answer)
    if product_id is None:
        raise not_found("question")
    await request.app.changed(product_id, question_id)
    return CREATED


async def _change_question(request: Request, report: bool) -> Response:
    question_id = contract.QUESTION_ID.read(request)
    product_id = await queries.change_question(request.app.writes(), question_id, report)
    if product_id is None:
        raise not_found("question")
    await request.app.changed(product_id, question_id)
    return NO_CONTENT


async def _change_answer(request: Request, report: bool) -> Response:
    owners = await queries.change_answer(request.app.writes(), contract.ANSWER_ID.read(request), report)
    if owners is None:
        raise not_found("answer")
    question_id, product_id = owners
    await request.app.changed(product_id, question_id)
    return NO_CONTENT


@router.put("/qa/questions/{question_id}/helpful", contract.QUESTION_HELPFUL)
async def question_helpful(request: Request) -> Response:
    return await _change_question(request, report=False)


@router.put("/qa/questions/{question_id}/report", contract.QUESTION_REPORT)
async def question_report(request: Request) -> Response:
    return await _change_question(request, report=True)


@router.put("/qa/answers/{answer_id}/helpful", contract.ANSWER_HELPFUL)
async def answer_helpful(request: Request) -> Response:
    return await _change_answer(request, report=False)


@router.put("/qa/answers/{answer_id}/report", contract.ANSWER_REPORT)
async def answer_report(request: Request) -> Response:
    return await _change_answer(request, report=True)
