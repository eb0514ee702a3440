"""`kill -9` of PostgreSQL under a mixed write stream (issue 11, items 4 and 5).

A private PostgreSQL (the shared one is never killed) with the legacy sample loaded; `atelier
serve` on it; shoppers posting reviews, votes, questions, answers, cart items and interactions
(and reading) on keep-alive connections of their own. The postmaster gets SIGKILL, then is
started again. Asserted: never a 500 and never a request left without an answer; every write
answered while the database is down is a 503; service comes back after the restart; every
acknowledged write is in the database afterwards.

fsync is off in this private server: a process crash loses nothing the OS already holds, and what
is tested is that atelier acknowledges a write only after its commit (synchronous_commit stays on,
as in production).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import SAMPLE, Server, atelier
from private_postgres import PrivatePostgres
from write_stream import ACKNOWLEDGED, WriteStream, cart_counts, helpfulness, missing_writes

KILL_AT = 3.0  # seconds into the stream
DOWN_FOR = 3.0
DURATION = 12.0


@pytest.fixture(scope="module")
def crashable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    with PrivatePostgres(settings={"fsync": "off"}) as pg:
        atelier("load", "--data", str(SAMPLE), "--rejects", str(tmp_path_factory.mktemp("rejects")),
                env={"DATABASE_URL": pg.url()})
        yield pg


def test_kill_9_of_postgres_under_writes(crashable: PrivatePostgres) -> None:
    pg = crashable
    votes_before = asyncio.run(helpfulness(pg.url()))
    server = Server(pg.url(), workers=1)
    events: dict[str, float] = {}

    def crash(t0: float) -> None:
        time.sleep(KILL_AT)
        events["killed"] = time.monotonic() - t0
        pg.kill()
        time.sleep(DOWN_FOR)
        events["restarting"] = time.monotonic() - t0
        pg.start()
        events["accepting"] = time.monotonic() - t0

    try:
        stream = WriteStream(server.url, users=12)
        crasher = threading.Thread(target=crash, args=(time.monotonic(),))
        crasher.start()
        answers = asyncio.run(stream.run(DURATION))
        crasher.join()
        carts = asyncio.run(cart_counts(server.url, answers))
    finally:
        server.stop()

    assert [a for a in answers if a.status in (0, 500)] == []  # no hang, no 500: ever
    down = [a for a in answers if events["killed"] + 0.5 <= a.started < events["restarting"]]
    down_writes = {a.status for a in down if a.kind != "read"}
    assert down_writes == {503}, down_writes
    assert {a.status for a in down if a.kind == "read"} <= {200, 503}  # a new visitor's empty cart needs no database
    after = [a for a in answers if a.started >= events["accepting"]]
    for kind, status in ACKNOWLEDGED.items():  # every kind of write succeeds again after the restart
        assert any(a.kind == kind and a.status == status for a in after), kind
    last_second = [a for a in answers if a.started >= DURATION - 1.0]
    assert last_second and all(a.status // 100 in (2, 4) for a in last_second)

    missing, (acked_votes, stored_votes, sent_votes) = asyncio.run(missing_writes(pg.url(), answers, votes_before))
    assert missing == {"review": [], "question": [], "answer": [], "interaction": []}
    assert acked_votes <= stored_votes <= sent_votes
    assert all(acked <= stored <= sent for acked, stored, sent in carts), carts
