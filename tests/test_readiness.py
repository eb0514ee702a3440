"""Starting without the database, readiness, and the prewarm (issue 11, items 7 and 8).

End to end on a private PostgreSQL the test starts and stops (never the shared one): `atelier
serve` with the database down starts, answers 503 (saying no more than "database unavailable")
and not-ready, and becomes ready when the database arrives, without a restart; after a `kill -9`
of PostgreSQL it is not ready until the database is back and warm again. In process: the prewarm
puts indexes into shared buffers and the rest into the page cache, falls back to scans without
pg_prewarm, and its marker goes stale when PostgreSQL restarts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import SAMPLE, Server, atelier
from private_postgres import PrivatePostgres

from atelier.core import prewarm
from atelier.core.config import Settings
from atelier.core.http import Request
from atelier.server import create_app


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    with PrivatePostgres(settings={"fsync": "off", "shared_buffers": "16MB"}) as server:
        atelier("load", "--data", str(SAMPLE), "--rejects", str(tmp_path_factory.mktemp("rejects")),
                env={"DATABASE_URL": server.url()})
        yield server


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def wait_for(client: httpx.Client, path: str, status: int, within: float = 30) -> int:
    deadline = time.monotonic() + within
    while True:
        last = client.get(path).status_code
        if last == status or time.monotonic() > deadline:
            return last
        time.sleep(0.1)


def test_serve_starts_with_the_database_down_and_becomes_ready_when_it_arrives(pg: PrivatePostgres) -> None:
    pg.stop()
    server = Server(pg.url(), workers=2)  # returns once the server answers: it did not wait for the database
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for path in ("/products/1", "/reviews?product_id=1", "/qa/questions?product_id=1", "/health"):
                r = client.get(path)
                assert r.status_code == 503 and r.json() == {"error": "database unavailable"}, (path, r.text)
            r = client.post("/reviews", json={"product_id": 1})
            assert r.status_code in (422, 503)  # judged without the database, or a 503: never a 500
            assert client.get("/health/ready").json() == {"status": "database unavailable",
                                                         "error": "database unavailable"}
            assert client.get("/health/live").status_code == 200
            assert client.get("/products/abc").status_code == 422  # bad input is still judged

            pg.start()
            assert wait_for(client, "/health/ready", 200) == 200
            assert client.get("/products/1/related").json() == [2, 3, 8, 7]

            pg.kill()  # a crash: not ready while it is down, ready again once it is back and warm
            assert wait_for(client, "/health/ready", 503, within=10) == 503
            assert client.get("/health/live").status_code == 200
            pg.start()
            assert wait_for(client, "/health/ready", 200) == 200
            assert client.get("/products/1/related").json() == [2, 3, 8, 7]
    finally:
        server.stop()
        if pg.pid is None:
            pg.start()
    log = Path(server.log.name).read_text() if Path(server.log.name).exists() else ""
    assert "Traceback" not in log


def test_ready_says_warming_while_the_marker_is_stale(pg: PrivatePostgres) -> None:
    async def go() -> None:
        app = create_app(Settings(database_url=pg.url()))
        app.start()
        conn = await asyncpg.connect(pg.url())
        try:
            await conn.execute("UPDATE public.atelier_warm SET postmaster_started = '-infinity'")
            response = await app.handle(Request(app, "GET", "/health/ready", "", {}))
            warming = b'{"status":"warming","error":"the read path is being warmed"}'
            assert (response.status, response.body) == (503, warming)
            await prewarm.warm(conn, ["products.document"])
            response = await app.handle(Request(app, "GET", "/health/ready", "", {}))
            assert (response.status, response.body) == (200, b'{"status":"ready"}')
        finally:
            await conn.close()
            await app.stop()

    run(go())


DOCS = """
CREATE SCHEMA IF NOT EXISTS warmth;
DROP TABLE IF EXISTS warmth.docs;
CREATE TABLE warmth.docs (id integer PRIMARY KEY, doc bytea NOT NULL);
ALTER TABLE warmth.docs ALTER doc SET STORAGE EXTERNAL;  -- out of line: the TOAST table holds them
INSERT INTO warmth.docs SELECT g, convert_to(repeat(md5(g::text), 100), 'UTF8') FROM generate_series(1, 3000) g;
CREATE EXTENSION IF NOT EXISTS pg_buffercache;
"""
IN_BUFFERS = """
SELECT count(*) FROM pg_buffercache b JOIN pg_class c ON b.relfilenode = pg_relation_filenode(c.oid)
WHERE c.oid = $1::regclass AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def test_prewarm_puts_indexes_in_shared_buffers_first_and_the_rest_in_the_page_cache(
        pg: PrivatePostgres, monkeypatch: pytest.MonkeyPatch) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(pg.url())
        try:
            await conn.execute(DOCS)
        finally:
            await conn.close()
        pg.stop()  # shared buffers start empty
        pg.start()
        conn = await asyncpg.connect(pg.url())
        try:
            assert not await prewarm.is_current(conn)  # PostgreSQL restarted since the last warm
            assert await conn.fetchval(IN_BUFFERS, "warmth.docs_pkey") == 0
            index_bytes = await conn.fetchval("SELECT pg_relation_size('warmth.docs_pkey')")
            shared = await conn.fetchval("SELECT pg_size_bytes(current_setting('shared_buffers'))")
            # room in shared buffers for the index and a little more, not for the documents
            monkeypatch.setattr(prewarm, "SHARED_BUFFERS_SHARE", (index_bytes + 16384) / shared)
            report = await prewarm.warm(conn, ["warmth.docs", "no_such.table"])
            assert report is not None and report.method == "pg_prewarm"
            assert await conn.fetchval(IN_BUFFERS, "warmth.docs_pkey") == index_bytes // 8192
            toast = await conn.fetchval("SELECT reltoastrelid::regclass::text FROM pg_class "
                                        "WHERE oid = 'warmth.docs'::regclass")
            assert report.into_page_cache >= await conn.fetchval("SELECT pg_relation_size($1::regclass)", toast)
            assert report.into_buffers <= index_bytes + 16384
            assert await prewarm.is_current(conn)
            assert await prewarm.warm(conn, ["warmth.docs"], only_if_stale=True) is None  # warm already
        finally:
            await conn.close()

    run(go())


def test_prewarm_without_pg_prewarm_scans_the_tables(pg: PrivatePostgres) -> None:
    async def go() -> None:
        admin = await asyncpg.connect(pg.url())
        try:  # a role that may not create the extension (it is not a superuser) in a database without it
            await admin.execute("DROP DATABASE IF EXISTS plain WITH (FORCE)")
            await admin.execute("DROP ROLE IF EXISTS plain")
            await admin.execute("CREATE ROLE plain LOGIN")
            await admin.execute("CREATE DATABASE plain OWNER plain")
        finally:
            await admin.close()
        conn = await asyncpg.connect(pg.url("plain").replace("postgres@", "plain@"))
        try:
            await conn.execute(DOCS.replace("CREATE EXTENSION IF NOT EXISTS pg_buffercache;", ""))
            report = await prewarm.warm(conn, ["warmth.docs"])
            assert report is not None and report.method == "scan" and report.into_buffers == 0
            toast_bytes = await conn.fetchval("SELECT pg_relation_size(reltoastrelid) FROM pg_class "
                                              "WHERE oid = 'warmth.docs'::regclass")
            assert report.into_page_cache >= toast_bytes > 0
            assert await prewarm.is_current(conn)
        finally:
            await conn.close()

    run(go())
