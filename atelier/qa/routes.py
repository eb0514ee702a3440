"""Questions and answers endpoints: a read is one lookup of a precomputed listing (an array of JSON
objects) cut to the page; writes update the rows and their documents in one transaction."""

from __future__ import annotations

from ..core.batching import KeyedReader
from ..core.db import Pool
from ..core.http import CREATED, NO_CONTENT, HTTPError, Request, Response, Router, not_found, raw_json
from ..core.params import parse_id, parse_paging
from . import bodies, queries

router = Router()

INVALID_PRODUCT = "Error: invalid product_id provided"
INVALID_QUESTION_ID = "Error: invalid question_id provided"
INVALID_ANSWER_ID = "Error: invalid answer_id provided"

PAGING = {"page": "1-based page (default 1)", "count": "page size (default 5; clamped to the maximum)"}


def _paging(request: Request) -> tuple[int, int, slice]:
    """(offset, requested count, the page's slice of a listing; at most max_count long)."""
    _, count, offset = parse_paging(request.query, request.app.settings.max_count)
    return offset, count, slice(offset, offset + min(count, request.app.settings.max_count))


def _reader(request: Request, name: str, query: str, single_query: str) -> KeyedReader:
    """One batching document reader per kind and worker process."""
    reader = request.app.state.get(name)
    if reader is None:
        reader = request.app.state[name] = KeyedReader(request.app.db(), query, single_query)
    return reader


@router.get("/qa/questions", "A product's questions with their answers",
            params={"product_id": "the product (required)", **PAGING})
async def list_questions(request: Request) -> Response:
    product_id = parse_id(request.query.get("product_id"), INVALID_PRODUCT)
    _, _, page = _paging(request)
    listing = await _reader(request, "qa.products", queries.PRODUCT_DOCUMENTS, queries.PRODUCT_DOCUMENT).get(product_id)
    return raw_json(b'{"product_id":"%d","results":[%s]}' % (product_id, b",".join((listing or [])[page])))


@router.get("/qa/questions/{question_id}/answers", "A question's answers", params=PAGING)
async def list_answers(request: Request) -> Response:
    question_id = parse_id(request.params["question_id"], INVALID_QUESTION_ID)
    offset, count, page = _paging(request)
    listing = await _reader(request, "qa.questions", queries.QUESTION_DOCUMENTS,
                            queries.QUESTION_DOCUMENT).get(question_id)
    if listing is None:
        raise not_found("question")
    return raw_json(b'{"question":"%d","page":%d,"count":%d,"results":[%s]}'
                    % (question_id, offset, count, b",".join(listing[page])))


@router.post("/qa/questions", "Ask a question",
             body={"type": "object", "required": ["body", "name", "email", "product_id"]})
async def add_question(request: Request) -> Response:
    new = bodies.question(request.json(bodies.INVALID_QUESTION))
    pool = request.app.writes()
    if not await pool.fetchval(queries.PRODUCT_EXISTS, new.product_id):
        raise HTTPError(422, bodies.INVALID_QUESTION)
    async with pool.connection() as conn, conn.transaction():
        await queries.lock_product(conn, new.product_id)
        question_id = await conn.fetchval(queries.INSERT_QUESTION, new.product_id, new.body, new.name, new.email)
        await conn.execute(queries.INSERT_QUESTION_DOCUMENT, question_id)
        await queries.rebuild_product(conn, new.product_id)
    await request.app.changed(new.product_id)
    return CREATED


@router.post("/qa/questions/{question_id}/answers", "Answer a question",
             body={"type": "object", "required": ["body", "name", "email"]})
async def add_answer(request: Request) -> Response:
    question_id = parse_id(request.params["question_id"], INVALID_QUESTION_ID)
    new = bodies.answer(request.json(bodies.INVALID_ANSWER))
    pool = request.app.writes()
    product_id = await _product_of_question(pool, question_id)
    async with pool.connection() as conn, conn.transaction():
        await queries.lock_product(conn, product_id)
        answer_id = await conn.fetchval(queries.INSERT_ANSWER, question_id, new.body, new.name, new.email)
        if new.photos:
            await conn.execute(queries.INSERT_PHOTOS, answer_id, new.photos)
        await queries.rebuild_question(conn, question_id)
        await queries.rebuild_product(conn, product_id)
    await request.app.changed(product_id, question_id)
    return CREATED


async def _product_of_question(pool: Pool, question_id: int) -> int:
    """The question's product; 404 when there is no such question."""
    product_id = await pool.fetchval(queries.PRODUCT_OF_QUESTION, question_id)
    if product_id is None:
        raise not_found("question")
    return product_id


async def _question_change(request: Request, update: str) -> Response:
    question_id = parse_id(request.params["question_id"], INVALID_QUESTION_ID)
    pool = request.app.writes()
    product_id = await _product_of_question(pool, question_id)
    async with pool.connection() as conn, conn.transaction():
        await queries.lock_product(conn, product_id)
        await conn.execute(update, question_id)
        await queries.rebuild_product(conn, product_id)
    await request.app.changed(product_id, question_id)
    return NO_CONTENT


async def _answer_change(request: Request, update: str) -> Response:
    answer_id = parse_id(request.params["answer_id"], INVALID_ANSWER_ID)
    pool = request.app.writes()
    owners = await pool.fetchrow(queries.OWNERS_OF_ANSWER, answer_id)
    if owners is None:
        raise not_found("answer")
    question_id, product_id = owners
    async with pool.connection() as conn, conn.transaction():
        await queries.lock_product(conn, product_id)
        await conn.execute(update, answer_id)
        await queries.rebuild_question(conn, question_id)
        await queries.rebuild_product(conn, product_id)
    await request.app.changed(product_id, question_id)
    return NO_CONTENT


@router.put("/qa/questions/{question_id}/helpful", "Mark a question helpful")
async def question_helpful(request: Request) -> Response:
    return await _question_change(request, queries.QUESTION_HELPFUL)


@router.put("/qa/questions/{question_id}/report", "Report a question (hides it)")
async def question_report(request: Request) -> Response:
    return await _question_change(request, queries.QUESTION_REPORT)


@router.put("/qa/answers/{answer_id}/helpful", "Mark an answer helpful")
async def answer_helpful(request: Request) -> Response:
    return await _answer_change(request, queries.ANSWER_HELPFUL)


@router.put("/qa/answers/{answer_id}/report", "Report an answer (hides it)")
async def answer_report(request: Request) -> Response:
    return await _answer_change(request, queries.ANSWER_REPORT)
