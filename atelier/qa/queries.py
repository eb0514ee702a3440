"""The SQL of the Q&A endpoints. A read is one lookup of a precomputed listing (coalesced with the
concurrent ones, see core/batching.py); each write is one call of a PL/pgSQL function (`ROUTINES`):
one round trip and one short transaction that locks the product's document row first (creating
it when the product has none yet), so writers of one product take turns and each rebuild sees the
changes of the writers before it. `ROUTINES` is run by every migrate and load, on the live schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.app import App
from ..core.batching import KeyedReader
from ..core.db import Pool
from ..core.per_app import PerApp
from ..products.tables import PRODUCT
from .contract import NewAnswer, NewQuestion
from .documents import REBUILD_PRODUCT, REBUILD_QUESTION

PRODUCT_DOCUMENT = "SELECT questions FROM qa.product_document WHERE product_id = $1"
PRODUCT_DOCUMENTS = "SELECT product_id, questions FROM qa.product_document WHERE product_id = ANY($1::int[])"
QUESTION_DOCUMENT = "SELECT answers FROM qa.question_document WHERE question_id = $1"
QUESTION_DOCUMENTS = "SELECT question_id, answers FROM qa.question_document WHERE question_id = ANY($1::int[])"

ROUTINES = f"""
-- The documents of one product / one question, rebuilt from their rows ($1 the key).
CREATE OR REPLACE FUNCTION qa.rebuild_product(integer) RETURNS void LANGUAGE sql AS $fn$
{REBUILD_PRODUCT}
$fn$;
CREATE OR REPLACE FUNCTION qa.rebuild_question(integer) RETURNS void LANGUAGE sql AS $fn$
{REBUILD_QUESTION}
$fn$;

-- Locks the product's document row, creating it (empty) when the product has none yet.
CREATE OR REPLACE FUNCTION qa.lock_product(integer) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO qa.product_document (product_id, questions) VALUES ($1, '{{}}') ON CONFLICT (product_id) DO NOTHING;
    PERFORM 1 FROM qa.product_document WHERE product_id = $1 FOR UPDATE;
END $fn$;

-- POST /qa/questions ($1 product, $2 body, $3 name, $4 email): false when there is no such product.
CREATE OR REPLACE FUNCTION qa.add_question(integer, text, text, text) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    new_question integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {PRODUCT} WHERE id = $1) THEN
        RETURN false;
    END IF;
    PERFORM qa.lock_product($1);
    INSERT INTO qa.question (product_id, body, asker_name, asker_email) VALUES ($1, $2, $3, $4)
    RETURNING id INTO new_question;
    INSERT INTO qa.question_document (question_id, answers) VALUES (new_question, '{{}}');
    PERFORM qa.rebuild_product($1);
    RETURN true;
END $fn$;

-- POST /qa/questions/:id/answers ($1 question, $2 body, $3 name, $4 email, $5 photo urls): the
-- question's product, NULL when there is no such question.
CREATE OR REPLACE FUNCTION qa.add_answer(integer, text, text, text, text[]) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    the_product integer;
    new_answer integer;
BEGIN
    SELECT product_id INTO the_product FROM qa.question WHERE id = $1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM qa.lock_product(the_product);
    INSERT INTO qa.answer (question_id, body, answerer_name, answerer_email) VALUES ($1, $2, $3, $4)
    RETURNING id INTO new_answer;
    INSERT INTO qa.answer_photo (answer_id, url)
    SELECT new_answer, u.url FROM unnest($5) WITH ORDINALITY AS u(url, n) ORDER BY u.n;
    PERFORM qa.rebuild_question($1);
    PERFORM qa.rebuild_product(the_product);
    RETURN the_product;
END $fn$;

-- PUT /qa/questions/:id/helpful and /report ($2: report): the question's product, NULL when there
-- is no such question.
CREATE OR REPLACE FUNCTION qa.change_question(integer, boolean) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    the_product integer;
BEGIN
    SELECT product_id INTO the_product FROM qa.question WHERE id = $1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM qa.lock_product(the_product);
    IF $2 THEN
        UPDATE qa.question SET reported = true WHERE id = $1;
    ELSE
        UPDATE qa.question SET helpful = helpful + 1 WHERE id = $1;
    END IF;
    PERFORM qa.rebuild_product(the_product);
    RETURN the_product;
END $fn$;

-- PUT /qa/answers/:id/helpful and /report ($2: report): the answer's question and product, NULLs
-- when there is no such answer.
CREATE OR REPLACE FUNCTION qa.change_answer(integer, boolean, OUT the_question integer, OUT the_product integer)
LANGUAGE plpgsql AS $fn$
BEGIN
    SELECT a.question_id, q.product_id INTO the_question, the_product
    FROM qa.answer a JOIN qa.question q ON q.id = a.question_id WHERE a.id = $1;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM qa.lock_product(the_product);
    IF $2 THEN
        UPDATE qa.answer SET reported = true WHERE id = $1;
    ELSE
        UPDATE qa.answer SET helpful = helpful + 1 WHERE id = $1;
    END IF;
    PERFORM qa.rebuild_question(the_question);
    PERFORM qa.rebuild_product(the_product);
END $fn$;
"""

ADD_QUESTION = "SELECT qa.add_question($1, $2, $3, $4)"
ADD_ANSWER = "SELECT qa.add_answer($1, $2, $3, $4, $5)"
CHANGE_QUESTION = "SELECT qa.change_question($1, $2)"
CHANGE_ANSWER = "SELECT the_question, the_product FROM qa.change_answer($1, $2)"


@dataclass(frozen=True, slots=True)
class _Readers:
    products: KeyedReader
    questions: KeyedReader


_READERS = PerApp(lambda app: _Readers(KeyedReader(app.db(), PRODUCT_DOCUMENTS, PRODUCT_DOCUMENT),
                                       KeyedReader(app.db(), QUESTION_DOCUMENTS, QUESTION_DOCUMENT)))


async def questions(app: App, product_id: int) -> list[bytes]:
    """The product's listed questions, one JSON object each, in listing order."""
    return await _READERS(app).products.get(product_id) or []


async def answers(app: App, question_id: int) -> list[bytes] | None:
    """The question's listed answers, one JSON object each; None when there is no such question."""
    return await _READERS(app).questions.get(question_id)


async def add_question(pool: Pool, question: NewQuestion) -> bool:
    """Stores a question; False when its product does not exist."""
    async with pool.connection() as conn:  # a write: never retried
        added: bool = await conn.fetchval(ADD_QUESTION, question.product_id, question.body, question.name,
                                          question.email)
    return added


async def add_answer(pool: Pool, question_id: int, answer: NewAnswer) -> int | None:
    """Stores an answer; the question's product, None when there is no such question."""
    async with pool.connection() as conn:
        product_id: int | None = await conn.fetchval(ADD_ANSWER, question_id, answer.body, answer.name, answer.email,
                                                     answer.photos)
    return product_id


async def change_question(pool: Pool, question_id: int, report: bool) -> int | None:
    """Marks the question helpful (or reports it); its product, None when there is no such question."""
    async with pool.connection() as conn:
        product_id: int | None = await conn.fetchval(CHANGE_QUESTION, question_id, report)
    return product_id


async def change_answer(pool: Pool, answer_id: int, report: bool) -> tuple[int, int] | None:
    """Marks the answer helpful (or reports it); (its question, its product), None when there is no such answer."""
    async with pool.connection() as conn:
        question_id, product_id = await conn.fetchrow(CHANGE_ANSWER, answer_id, report)
    return None if question_id is None else (question_id, product_id)
