"""The SQL of the Q&A endpoints: one document lookup per read; writes that keep the documents exact.

Every write runs in one transaction that first locks the document row of the product concerned
(creating it when the product has none yet), so writers of one product are serialised and each
rebuild sees the changes of the writers before it.
"""

from __future__ import annotations

import asyncpg

from .documents import REBUILD_PRODUCT, REBUILD_QUESTION

# Reads: whole listings, by one key or (coalesced, see core/batching.py) by many.
PRODUCT_DOCUMENT = "SELECT questions FROM qa.product_document WHERE product_id = $1"
PRODUCT_DOCUMENTS = "SELECT product_id, questions FROM qa.product_document WHERE product_id = ANY($1::int[])"
QUESTION_DOCUMENT = "SELECT answers FROM qa.question_document WHERE question_id = $1"
QUESTION_DOCUMENTS = "SELECT question_id, answers FROM qa.question_document WHERE question_id = ANY($1::int[])"

PRODUCT_EXISTS = "SELECT EXISTS (SELECT 1 FROM products.product WHERE id = $1)"
PRODUCT_OF_QUESTION = "SELECT product_id FROM qa.question WHERE id = $1"
OWNERS_OF_ANSWER = ("SELECT a.question_id, q.product_id FROM qa.answer a JOIN qa.question q ON q.id = a.question_id "
                    "WHERE a.id = $1")

ENSURE_PRODUCT_DOCUMENT = ("INSERT INTO qa.product_document (product_id, questions) VALUES ($1, '{}') "
                           "ON CONFLICT (product_id) DO NOTHING")
LOCK_PRODUCT_DOCUMENT = "SELECT 1 FROM qa.product_document WHERE product_id = $1 FOR UPDATE"

INSERT_QUESTION = ("INSERT INTO qa.question (product_id, body, asker_name, asker_email) VALUES ($1, $2, $3, $4) "
                   "RETURNING id")
INSERT_QUESTION_DOCUMENT = "INSERT INTO qa.question_document (question_id, answers) VALUES ($1, '{}')"
INSERT_ANSWER = ("INSERT INTO qa.answer (question_id, body, answerer_name, answerer_email) VALUES ($1, $2, $3, $4) "
                 "RETURNING id")
INSERT_PHOTOS = ("INSERT INTO qa.answer_photo (answer_id, url) "
                 "SELECT $1, url FROM unnest($2::text[]) WITH ORDINALITY AS u(url, n) ORDER BY n")

QUESTION_HELPFUL = "UPDATE qa.question SET helpful = helpful + 1 WHERE id = $1"
QUESTION_REPORT = "UPDATE qa.question SET reported = true WHERE id = $1"
ANSWER_HELPFUL = "UPDATE qa.answer SET helpful = helpful + 1 WHERE id = $1"
ANSWER_REPORT = "UPDATE qa.answer SET reported = true WHERE id = $1"


async def lock_product(conn: asyncpg.Connection, product_id: int) -> None:
    await conn.execute(ENSURE_PRODUCT_DOCUMENT, product_id)
    await conn.execute(LOCK_PRODUCT_DOCUMENT, product_id)


async def rebuild_question(conn: asyncpg.Connection, question_id: int) -> None:
    await conn.execute(REBUILD_QUESTION, question_id)


async def rebuild_product(conn: asyncpg.Connection, product_id: int) -> None:
    await conn.execute(REBUILD_PRODUCT, product_id)
