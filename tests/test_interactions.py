"""POST /interactions: validation, and no accepted write ever lost (across restarts and reloads)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from conftest import SAMPLE, Server, atelier, create_database, drop_database

from atelier.core.db import DatabaseUnavailable, Pool
from atelier.interactions.batcher import InsertBatcher
from atelier.interactions.queries import COLUMNS, INSERT

INVALID = "Error: Interaction body contains invalid entries"
GOOD = {"element": "img#main", "widget": "overview", "time": "2021-03-01T17:03:11.123Z"}


def count(url: str) -> int:
    async def go() -> int:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval("SELECT count(*) FROM interactions.interaction")
        finally:
            await conn.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    url = create_database()
    try:
        atelier("migrate", env={"DATABASE_URL": url})
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def server(db: str) -> Iterator[Server]:
    srv = Server(db, workers=2)
    try:
        yield srv
    finally:
        srv.stop()


async def _post_loop(port: int, body: bytes, budget: list[int], statuses: list[int]) -> None:
    """POSTs over one keep-alive connection until the shared `budget` is spent or the connection
    fails (raw HTTP/1.1: httpx's async client is far slower than the server)."""
    request = (b"POST /interactions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    except (TimeoutError, OSError):
        return
    try:
        while budget[0] > 0:
            budget[0] -= 1
            writer.write(request)
            status_line = await asyncio.wait_for(reader.readline(), 10)
            if not status_line:
                return
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            statuses.append(int(status_line.split()[1]))
    except (TimeoutError, OSError, asyncio.IncompleteReadError, IndexError, ValueError):
        return
    finally:
        writer.close()


def post_many(port: int, count: int, connections: int = 20, stop_after: Any = None) -> list[int]:
    """Statuses of up to `count` POSTs of GOOD on `connections` connections; `stop_after(statuses)`
    is called once a few have been answered (to stop the server mid-burst)."""
    body = orjson.dumps(GOOD)

    async def go() -> list[int]:
        statuses: list[int] = []
        budget = [count]
        loops = [asyncio.ensure_future(_post_loop(port, body, budget, statuses)) for _ in range(connections)]
        if stop_after is not None:
            while len(statuses) < 50 and not all(t.done() for t in loops):
                await asyncio.sleep(0.01)
            stop_after(statuses)
        await asyncio.gather(*loops)
        return statuses

    return asyncio.run(go())


def test_valid_interaction_is_201_and_stored(db: str, server: Server) -> None:
    before = count(db)
    r = httpx.post(server.url + "/interactions", json=GOOD)
    assert r.status_code == 201 and r.text == "Created"
    assert count(db) == before + 1  # stored before the answer


def stored(url: str, element: str) -> list[tuple[str, datetime | None]]:
    async def go() -> list[tuple[str, datetime | None]]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("SELECT time_text, time FROM interactions.interaction WHERE element = $1 "
                                    "ORDER BY id", element)
            return [(r[0], r[1]) for r in rows]
        finally:
            await conn.close()

    return asyncio.run(go())


# api.md: `time` is any text, stored as sent; the forms front ends send are also stored as a moment.
TIMES = {
    "2021-03-01T17:03:11Z": datetime(2021, 3, 1, 17, 3, 11, tzinfo=UTC),
    "2021-03-01T17:03:11.123+02:00": datetime(2021, 3, 1, 15, 3, 11, 123000, tzinfo=UTC),
    "2021-03-01 17:03:11": datetime(2021, 3, 1, 17, 3, 11, tzinfo=UTC),
    "2021-03-01": datetime(2021, 3, 1, tzinfo=UTC),
    '"2026-12-01T23:32:29.000Z"': datetime(2026, 12, 1, 23, 32, 29, tzinfo=UTC),  # JSON.stringify(new Date())
    "Tue Dec 01 2026 23:32:29 GMT+0000 (Coordinated Universal Time)": datetime(2026, 12, 1, 23, 32, 29, tzinfo=UTC),
    "Wed Dec 02 2026 00:32:29 GMT+0100 (Central European Standard Time)":
        datetime(2026, 12, 1, 23, 32, 29, tzinfo=UTC),
    "1606865549000": datetime(2020, 12, 1, 23, 32, 29, tzinfo=UTC),  # epoch milliseconds as text
    "yesterday": None, "2021-13-01T00:00:00Z": None, "Tue Dec 01 2026": None, "  soon ": None,
}


@pytest.mark.parametrize("time", list(TIMES))
def test_time_is_stored_as_sent_and_as_a_moment_where_it_reads_as_one(db: str, server: Server, time: str) -> None:
    element = f"time-test {time}"
    r = httpx.post(server.url + "/interactions", json={**GOOD, "element": element, "time": time})
    assert r.status_code == 201 and r.text == "Created"
    assert stored(db, element) == [(time, TIMES[time])]


INVALID_BODIES = [
    {k: v for k, v in GOOD.items() if k != "element"}, {k: v for k, v in GOOD.items() if k != "widget"},
    {k: v for k, v in GOOD.items() if k != "time"}, {**GOOD, "element": ""}, {**GOOD, "widget": "  "},
    {**GOOD, "element": 42}, {**GOOD, "widget": None}, {**GOOD, "time": 1614618191123},
    {**GOOD, "time": ""}, {**GOOD, "time": " \t"}, {**GOOD, "time": "t" * 201}, {**GOOD, "time": None},
    {**GOOD, "element": "x" * 1001}, {**GOOD, "widget": "w" * 201}, {**GOOD, "element": "nul\u0000"},
    [GOOD], "element", {},
]


@pytest.mark.parametrize("payload", INVALID_BODIES)
def test_invalid_interaction_is_422(db: str, server: Server, payload: Any) -> None:
    before = count(db)
    r = httpx.post(server.url + "/interactions", json=payload)
    assert r.status_code == 422 and r.text == INVALID
    assert count(db) == before


@pytest.mark.parametrize("raw", [b"", b"{", b"nope", b'{"element": "a", "widget": "b", "time": "2021-01-01"'])
def test_malformed_json_is_422(server: Server, raw: bytes) -> None:
    r = httpx.post(server.url + "/interactions", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.text == INVALID


def test_every_accepted_write_is_stored(db: str, server: Server) -> None:
    before = count(db)
    statuses = post_many(server.port, 1000)
    assert statuses == [201] * 1000
    assert count(db) == before + 1000


def test_accepted_writes_survive_a_restart_and_a_reload(db: str) -> None:
    srv = Server(db)
    before = count(db)
    try:
        accepted = post_many(srv.port, 200).count(201)
    finally:
        srv.stop()
    assert accepted == 200 and count(db) == before + 200
    atelier("load", "--data", str(SAMPLE), "--only", "products", env={"DATABASE_URL": db})
    assert count(db) == before + 200  # interactions has no files: `atelier load` leaves it alone
    srv = Server(db)
    try:
        assert httpx.post(srv.url + "/interactions", json=GOOD).status_code == 201
    finally:
        srv.stop()
    assert count(db) == before + 201


def test_no_accepted_write_is_lost_when_the_server_stops_mid_burst(db: str) -> None:
    srv = Server(db)
    before = count(db)
    try:
        statuses = post_many(srv.port, 100_000, stop_after=lambda _: srv.proc.terminate())  # SIGTERM mid-burst
    finally:
        srv.stop()
    accepted = statuses.count(201)
    assert accepted >= 50 and set(statuses) <= {201, 503}
    assert count(db) >= before + accepted


def test_a_failed_batch_answers_every_waiter_503(db: str) -> None:
    """The batcher itself: a write that fails is reported to each caller of the batch, none hangs."""
    async def go() -> list[Any]:
        pool = Pool(db, size=2)
        try:
            ok = InsertBatcher(pool, INSERT, COLUMNS)
            good = await asyncio.gather(*(ok.add(("el", "w", "now", datetime.now(UTC))) for _ in range(300)))
            failing = InsertBatcher(pool, "INSERT INTO interactions.no_such_table SELECT * FROM unnest($1::text[])", 1)
            bad = await asyncio.gather(*(failing.add((str(i),)) for i in range(100)), return_exceptions=True)
            await ok.close()
            await failing.close()
            return [good, bad]
        finally:
            await pool.close()

    before = count(db)
    good, bad = asyncio.run(go())
    assert good == [None] * 300 and count(db) == before + 300
    assert all(isinstance(e, DatabaseUnavailable) for e in bad)  # the app answers it with a 503


# Layout 1 of interactions.interaction, as an older atelier created it (time parsed, NOT NULL).
LAYOUT_1 = """
CREATE SCHEMA interactions;
CREATE TABLE interactions.interaction (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, element text NOT NULL, widget text NOT NULL,
    time timestamptz NOT NULL, received_at timestamptz NOT NULL DEFAULT now());
INSERT INTO interactions.interaction (element, widget, time) VALUES ('old', 'w', '2021-03-01T17:03:11.123Z');
CREATE TABLE public.atelier_schema (service text PRIMARY KEY, version integer NOT NULL);
INSERT INTO public.atelier_schema VALUES ('interactions', 1);
"""


def test_an_older_layout_is_upgraded_in_place_keeping_its_rows() -> None:
    url = create_database()
    try:
        async def create() -> None:
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(LAYOUT_1)
            finally:
                await conn.close()

        asyncio.run(create())
        out = atelier("migrate", env={"DATABASE_URL": url}).stdout
        assert "upgraded schema interactions from version 1 to 2" in out
        old = datetime(2021, 3, 1, 17, 3, 11, 123000, tzinfo=UTC)
        assert stored(url, "old") == [("2021-03-01T17:03:11.123000Z", old)]
        assert "upgraded" not in atelier("migrate", env={"DATABASE_URL": url}).stdout  # once
        srv = Server(url)
        try:
            assert httpx.post(srv.url + "/interactions", json={**GOOD, "element": "new", "time": "soon"}).status_code \
                == 201
        finally:
            srv.stop()
        assert stored(url, "new") == [("soon", None)]
    finally:
        drop_database(url)
