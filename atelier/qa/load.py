"""Loading questions.csv, answers.csv and answers_photos.csv (legacy-csv.md) and precomputing the documents.

Questions must belong to a loaded product (products.product, from this run or the database),
answers to a loaded question, photos to a loaded answer; every other row is rejected with its
file, line and reason. Booleans are 0/1 and dates epoch milliseconds. The three files parse side
by side in two processes (`LoadContext.load_pipelined`), and each table is indexed on a side
connection as soon as its file is in.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from ..core.loading.context import LoadContext
from ..core.loading.ids import IdSet
from ..core.loading.parsers import bool_one_zero, epoch_ms, non_negative, positive_id, reference, text
from ..core.loading.spec import Column, FileSpec
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

# Each table's indexes, built on a side connection as soon as its file is loaded.
TABLE_INDEXES = {"question": QUESTION_INDEXES, "answer": ANSWER_INDEXES, "answer_photo": PHOTO_INDEXES}

RANGES = 16  # id ranges per document table, built on two connections


async def parent_ids(ctx: LoadContext, name: str) -> IdSet:
    """Ids of another service's table (`schema.table`): from this run, else from the database
    (none when that table does not exist yet, so every child is rejected as an orphan)."""
    if name not in ctx.ids and await ctx.conn.fetchval("SELECT to_regclass($1)", name) is None:
        ctx.ids[name] = IdSet()
    return await ctx.parent_ids(name, f"SELECT id FROM {name}")


async def load(ctx: LoadContext) -> None:
    await parent_ids(ctx, PRODUCT)
    s = ctx.schema
    side = SideSteps(ctx, await asyncpg.connect(ctx.database_url))
    try:
        await side.conn.execute("SET maintenance_work_mem = '512MB'")

        async def index(spec: FileSpec) -> None:  # while the files after it are still loading
            sql = TABLE_INDEXES[spec.table].replace("{s}", s) + f"; ANALYZE {s}.{spec.table}"
            await side.start(f"{spec.table} indexes", sql)

        await ctx.load_pipelined(FILES, on_loaded=index)
        await side.wait()
    finally:
        await side.close()
    builds = (await _ranges(ctx, BUILD_PRODUCTS, "product_id")) + (await _ranges(ctx, BUILD_QUESTIONS, "id"))
    await ctx.parallel_step("precompute documents", builds)
    analyze = [f"ANALYZE {s}.product_document", f"ANALYZE {s}.question_document"]
    await ctx.parallel_step("document keys, analyze documents", statements(DOCUMENT_KEYS, s) + analyze)
    await ctx.step("sequences", SEQUENCES.replace("{s}", s))


class SideSteps:
    """Timed SQL steps on a connection of their own, one after another, while the load goes on."""

    def __init__(self, ctx: LoadContext, conn: asyncpg.Connection) -> None:
        self.ctx = ctx
        self.conn = conn
        self._steps: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        self._worker = asyncio.ensure_future(self._run())

    async def start(self, label: str, sql: str) -> None:
        """Queues `sql` behind the steps started before it."""
        self._steps.put_nowait((label, sql))
        await asyncio.sleep(0)  # lets it start before a load in this process takes the event loop

    async def wait(self) -> None:
        """Returns when every step is done (raises if one failed)."""
        self._steps.put_nowait(None)
        await self._worker

    async def close(self) -> None:
        self._worker.cancel()
        await self.conn.close()

    async def _run(self) -> None:
        while (step := await self._steps.get()) is not None:
            label, sql = step
            started = time.monotonic()
            await self.conn.execute(sql)
            self.ctx.echo(f"  {label:<40} {time.monotonic() - started:7.1f}s")


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
