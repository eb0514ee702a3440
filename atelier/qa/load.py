"""Loading questions.csv, answers.csv and answers_photos.csv (legacy-csv.md) and precomputing the documents.

Questions must belong to a loaded product (products.product, from this run or the database),
answers to a loaded question, photos to a loaded answer; every other row is rejected with its
file, line and reason. Booleans are 0/1 and dates epoch milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable

import asyncpg

from ..core.loading import (
    Column, FileReport, FileSpec, IdSet, bool_one_zero, epoch_ms, non_negative, positive_id, reference, text,
)
from ..core.service import LoadContext
from .documents import BUILD_PRODUCTS, BUILD_QUESTIONS
from .schema import ANSWER_INDEXES, DOCUMENT_KEYS, PHOTO_INDEXES, QUESTION_INDEXES, SEQUENCES, statements

PRODUCT = "products.product"
QUESTION = "qa.question"
ANSWER = "qa.answer"

FILES = [
    FileSpec("questions.csv", "question", [
        Column("id", positive_id), Column("product_id", reference, parent=PRODUCT), Column("body", text),
        Column("date_written", epoch_ms), Column("asker_name", text), Column("asker_email", text),
        Column("reported", bool_one_zero), Column("helpful", non_negative)]),
    FileSpec("answers.csv", "answer", [
        Column("id", positive_id), Column("question_id", reference, parent=QUESTION), Column("body", text),
        Column("date_written", epoch_ms), Column("answerer_name", text), Column("answerer_email", text),
        Column("reported", bool_one_zero), Column("helpful", non_negative)]),
    FileSpec("answers_photos.csv", "answer_photo", [
        Column("id", positive_id), Column("answer_id", reference, parent=ANSWER), Column("url", text)]),
]

RANGES = 16  # id ranges per document table, built on two connections


async def parent_ids(ctx: LoadContext, name: str) -> IdSet:
    """Ids of another service's table (`schema.table`): from this run, else from the database
    (none when that table does not exist yet, so every child is rejected as an orphan)."""
    if name not in ctx.ids and await ctx.conn.fetchval("SELECT to_regclass($1)", name) is None:
        ctx.ids[name] = IdSet()
    return await ctx.parent_ids(name, f"SELECT id FROM {name}")


async def load(ctx: LoadContext) -> None:
    await parent_ids(ctx, PRODUCT)
    questions, answers, photos = FILES
    s = ctx.schema
    await ctx.load(questions)
    # Parsing is Python on one core: meanwhile PostgreSQL indexes the file loaded before.
    side = await asyncpg.connect(ctx.database_url)
    try:
        await side.execute("SET maintenance_work_mem = '512MB'")
        await _beside(ctx, ctx.load(answers), side, "question indexes", QUESTION_INDEXES.replace("{s}", s)
                      + f"; ANALYZE {s}.question")
        await _beside(ctx, ctx.load(photos), side, "answer indexes", ANSWER_INDEXES.replace("{s}", s)
                      + f"; ANALYZE {s}.answer")
    finally:
        await side.close()
    await ctx.step("photo index", PHOTO_INDEXES.replace("{s}", s) + f"; ANALYZE {s}.answer_photo")
    builds = (await _ranges(ctx, BUILD_PRODUCTS, "product_id")) + (await _ranges(ctx, BUILD_QUESTIONS, "id"))
    await ctx.parallel_step("precompute documents", builds)
    await ctx.parallel_step("document keys", statements(DOCUMENT_KEYS, s))
    await ctx.step("sequences", SEQUENCES.replace("{s}", s))
    await ctx.step("analyze documents", f"ANALYZE {s}.product_document, {s}.question_document")


async def _beside(ctx: LoadContext, loading: Awaitable[FileReport], side: asyncpg.Connection, label: str,
                  sql: str) -> None:
    """Runs `sql` on the side connection while `loading` (a file load) runs on the main one."""
    started = time.monotonic()

    async def run_sql() -> float:
        await side.execute(sql)
        return time.monotonic() - started

    task = asyncio.ensure_future(run_sql())
    await asyncio.sleep(0)  # the statement is sent before the parse takes the event loop
    try:
        await loading
    finally:
        seconds = await task
    ctx.echo(f"  {label + ' (beside the load)':<40} {seconds:7.1f}s")


async def _ranges(ctx: LoadContext, template: str, column: str) -> list[str]:
    """`template` over RANGES equal slices of [min, max] of question.`column` (ids are nearly dense)."""
    s = ctx.schema
    low, high = await ctx.conn.fetchrow(f"SELECT min({column}), max({column}) FROM {s}.question")
    if low is None:
        return []
    step = max(1, (high - low + RANGES) // RANGES)
    edges = list(range(low, high + 1, step)) + [high + 1]
    return [template.replace("{s}", s).replace("{lo}", str(lo)).replace("{hi}", str(hi))
            for lo, hi in zip(edges, edges[1:])]
