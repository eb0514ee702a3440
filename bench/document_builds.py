"""Database CPU of each precomputed-documents build, on a loaded database, in transactions that
are rolled back (the live documents are untouched).

    DATABASE_URL=... python bench/document_builds.py [--runs 3] [--only products reviews qa]

For each service: in one transaction on one connection, its precomputed tables are dropped and
created again bare (no keys, as a load builds them), the load's build statements run one after
the other over the live legacy tables, and the backend's CPU time (/proc/<pid>/stat, user +
system: the server must run on this machine) and the wall time are taken; then ROLLBACK. The
same statements as `atelier load` runs on two connections, here on one, so that the CPU is the
build's own. Prints every run and the median per service. The legacy tables should be warm (run
once before measuring).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from common import tree_cpu_seconds

from atelier.core.loading.context import LoadContext, prepare_build_session
from atelier.core.tables import Table
from atelier.products import load as product_load
from atelier.products import tables as product_tables
from atelier.qa import documents as qa_documents
from atelier.qa import load as qa_load
from atelier.qa import tables as qa_tables
from atelier.reviews import documents as review_documents
from atelier.reviews import tables as review_tables

Builds = Callable[[LoadContext], Awaitable[list[tuple[str, list[str]]]]]


async def products_builds(ctx: LoadContext) -> list[tuple[str, list[str]]]:
    return [("documents", await product_load._document_ranges(ctx))]


async def reviews_builds(ctx: LoadContext) -> list[tuple[str, list[str]]]:
    s, review = ctx.schema, review_tables.REVIEW.at(ctx.schema)
    return [("meta", [review_documents.BUILD_META.replace("{s}", s)]),
            ("documents", await ctx.sliced(review_documents.BUILD_DOCUMENTS_RANGE, review, "id")),
            ("listings", await ctx.sliced(review_documents.BUILD_LISTING_RANGE, review, "product_id"))]


async def qa_builds(ctx: LoadContext) -> list[tuple[str, list[str]]]:
    question = qa_tables.QUESTION.at(ctx.schema)
    ranges = qa_load.DOCUMENT_RANGES
    return [("documents", await ctx.sliced(qa_documents.BUILD_RANGE, question, "product_id", parts=ranges))]


SERVICES: dict[str, tuple[tuple[Table, ...], Builds]] = {
    "products": ((product_tables.DOCUMENT,), products_builds),
    "reviews": (review_tables.PRECOMPUTED, reviews_builds),
    "qa": (qa_tables.DOCUMENTS, qa_builds),
}


async def measure(url: str, service: str) -> dict[str, tuple[float, float]]:
    """CPU and wall seconds of each build of `service`, in a rolled-back transaction."""
    targets, builds = SERVICES[service]
    conn = await asyncpg.connect(url)
    try:
        await prepare_build_session(conn)
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        ctx = LoadContext(conn, service, service, Path("."), None, {})
        figures = {}
        tr = conn.transaction()
        await tr.start()
        try:
            for table in targets:
                await conn.execute(f"DROP TABLE {table.at(service)} CASCADE")
                for sql in table.create_sql(service):
                    await conn.execute(sql)
            for label, statements in await builds(ctx):
                cpu, wall = tree_cpu_seconds(pid), time.monotonic()
                for sql in statements:
                    await conn.execute(sql)
                figures[label] = (tree_cpu_seconds(pid) - cpu, time.monotonic() - wall)
        finally:
            await tr.rollback()
        return figures
    finally:
        await conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", nargs="*", choices=list(SERVICES), default=list(SERVICES))
    args = p.parse_args()
    url = os.environ["DATABASE_URL"]
    for service in args.only:
        runs = [asyncio.run(measure(url, service)) for _ in range(args.runs)]
        for label in runs[0]:
            cpus = [run[label][0] for run in runs]
            walls = [run[label][1] for run in runs]
            each = ", ".join(f"{c:.2f}" for c in cpus)
            print(f"{service:<9} {label:<10} cpu {statistics.median(cpus):6.2f}s ({each})"
                  f"  wall {statistics.median(walls):6.2f}s", flush=True)


if __name__ == "__main__":
    main()
