"""Loading questions.csv, answers.csv and answers_photos.csv (legacy-csv.md) and precomputing the documents.

Questions must belong to a loaded product (products.product, from this run or the database),
answers to a loaded question, photos to a loaded answer; every other row is rejected with its
file, line and reason. Booleans are 0/1 and dates epoch milliseconds. The three files load one
after the other (`LoadContext.load_in_order`), and each table is indexed on a side connection
as soon as its file is in, while the next file loads.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from ..core.loading.context import LoadContext
from ..core.loading.spec import FileSpec
from .documents import BUILD_RANGE
from .tables import DOCUMENTS, LEGACY, QUESTION

LEGACY_BY_NAME = {t.name: t for t in LEGACY}

# Ranges of product ids the documents are built over. A range holds its answers (with their
# JSON fields) and their lists in CTEs: 64 ranges keep that to tens of MB at full scale (about
# 55,000 questions and 110,000 answers a range), within the build's work_mem (256 MB); at scale
# 0.1, 16 and 64 ranges cost the same CPU (bench/document_builds.py).
DOCUMENT_RANGES = 64


async def load(ctx: LoadContext) -> None:
    s = ctx.schema
    side = SideSteps(ctx, await asyncpg.connect(ctx.database_url))
    try:
        await side.conn.execute("SET maintenance_work_mem = '512MB'")

        async def index(spec: FileSpec) -> None:  # while the files after it are still loading
            table = LEGACY_BY_NAME[spec.table]
            sql = "; ".join(table.keys_and_indexes_sql(s) + [f"ANALYZE {table.at(s)}"])
            await side.start(f"{spec.table} indexes", sql)

        await ctx.load_in_order([t.file_spec() for t in LEGACY], on_loaded=index)
        await side.wait()
    finally:
        await side.close()
    builds = await ctx.sliced(BUILD_RANGE, QUESTION.at(s), "product_id", parts=DOCUMENT_RANGES)
    await ctx.parallel_step("precompute documents", builds)
    keys = [sql for t in DOCUMENTS for sql in t.key_sql(s)]
    await ctx.parallel_step("document keys, analyze documents", keys + [f"ANALYZE {t.at(s)}" for t in DOCUMENTS])
    await ctx.step("sequences", "; ".join(sql for t in LEGACY for sql in t.identity_restart_sql(s)))


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

