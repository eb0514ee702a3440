"""A mixed stream of writes and reads against a real server, recording every answer.

Each simulated shopper holds one keep-alive HTTP/1.1 connection of its own (raw asyncio streams:
no client-side pool, so a latency measured here is the server's, not a queue in the client) and
sends, one after the other, writes of every kind atelier has (a review, a helpful vote, a question,
an answer, a cart item, an interaction) and reads. Every write carries a unique marker so that
`verify()` can check afterwards, in the database, that each acknowledged write is stored.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import asyncpg

REQUEST_TIMEOUT = 10.0  # seconds; an answer later than this counts as status 0 (no answer)
VOTED_REVIEW = 2  # the review every helpful vote of the stream goes to
HELPFULNESS = "SELECT helpfulness FROM reviews.review WHERE id = $1"


@dataclass(slots=True)
class Answer:
    kind: str
    marker: str
    status: int  # 0: no answer (connection lost or timed out)
    started: float  # seconds since the stream started
    seconds: float


class HTTPConnection:
    """One keep-alive connection; reconnects after the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        try:
            return await asyncio.wait_for(self._exchange(method, path, body, headers or {}), REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            self.close()
            return 0, {}, b""

    async def _exchange(self, method: str, path: str, body: bytes | None,
                        headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines += ["content-type: application/json", f"content-length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        received: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            received[name.strip().lower()] = value.strip()
        data = await self.reader.readexactly(int(received.get("content-length", "0")))
        if received.get("connection", "").lower() == "close":
            self.close()
        return status, received, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None


@dataclass
class WriteStream:
    """`users` shoppers in a closed loop; `read_share` of their requests are reads."""

    base_url: str
    users: int = 16
    read_share: float = 0.3
    product_id: int = 1
    question_id: int = 1
    review_id: int = VOTED_REVIEW
    answers: list[Answer] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _t0: float = 0.0

    WRITES = ("review", "helpful", "question", "answer", "cart", "interaction")

    async def run(self, seconds: float) -> list[Answer]:
        self._t0 = time.monotonic()
        deadline = self._t0 + seconds
        await asyncio.gather(*(self._shopper(i, deadline) for i in range(self.users)))
        return self.answers

    async def _shopper(self, number: int, deadline: float) -> None:
        parts = urlsplit(self.base_url)
        conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
        rng = random.Random(number)
        cookie: str | None = None
        try:
            while time.monotonic() < deadline:
                if rng.random() < self.read_share:
                    kind, method, path, body = "read", "GET", rng.choice(self._reads()), None
                    marker = ""
                else:
                    kind = rng.choice(self.WRITES)
                    marker = f"crash-{number}-{next(self._counter)}"
                    method, path, body = self._write(kind, marker)
                headers = {"cookie": f"atelier_session={cookie}"} if cookie else {}
                started = time.monotonic()
                status, received, _ = await conn.request(method, path, body, headers)
                self.answers.append(Answer(kind, marker if kind != "cart" else cookie or "",
                                           status, started - self._t0, time.monotonic() - started))
                if "set-cookie" in received:
                    cookie = received["set-cookie"].split(";")[0].partition("=")[2]
                    if kind == "cart":
                        self.answers[-1].marker = cookie
                if status == 0:
                    await asyncio.sleep(0.05)  # the server is not answering: do not spin
        finally:
            conn.close()

    def _reads(self) -> tuple[str, ...]:
        p = self.product_id
        return (f"/products/{p}", f"/products/{p}/styles", f"/reviews?product_id={p}",
                f"/reviews/meta?product_id={p}", f"/qa/questions?product_id={p}", "/cart")

    def _write(self, kind: str, marker: str) -> tuple[str, str, bytes | None]:
        if kind == "review":
            body = {"product_id": self.product_id, "rating": 4, "summary": "s", "body": marker, "recommend": True,
                    "name": "crash", "email": "crash@example.com", "photos": [], "characteristics": {}}
            return "POST", "/reviews", json.dumps(body).encode()
        if kind == "helpful":
            return "PUT", f"/reviews/{self.review_id}/helpful", None
        if kind == "question":
            body = {"body": marker, "name": "crash", "email": "crash@example.com", "product_id": self.product_id}
            return "POST", "/qa/questions", json.dumps(body).encode()
        if kind == "answer":
            body = {"body": marker, "name": "crash", "email": "crash@example.com", "photos": []}
            return "POST", f"/qa/questions/{self.question_id}/answers", json.dumps(body).encode()
        if kind == "cart":
            return "POST", "/cart", json.dumps({"sku_id": 1}).encode()
        interaction = {"element": marker, "widget": "crash", "time": "2024-01-01T00:00:00Z"}
        return "POST", "/interactions", json.dumps(interaction).encode()


ACKNOWLEDGED = {"review": 201, "helpful": 204, "question": 201, "answer": 201, "cart": 201, "interaction": 201}


def statuses(answers: list[Answer]) -> Counter[int]:
    return Counter(a.status for a in answers)


async def missing_writes(database_url: str, answers: list[Answer],
                         helpful_before: int) -> tuple[dict[str, list[str]], tuple[int, int, int]]:
    """The acknowledged writes the database lacks, by kind (empty lists when nothing was lost),
    and the helpful votes (acknowledged, stored, sent): none lost when acknowledged <= stored, and
    stored <= sent (a vote whose answer was lost may or may not have been counted)."""
    acked: dict[str, set[str]] = {kind: set() for kind in ACKNOWLEDGED}
    sent_votes = 0
    for a in answers:
        if a.kind in ACKNOWLEDGED and a.status == ACKNOWLEDGED[a.kind]:
            acked[a.kind].add(a.marker)
        sent_votes += a.kind == "helpful"
    conn = await asyncpg.connect(database_url)
    try:
        stored = {
            "review": await conn.fetch("SELECT body FROM reviews.review WHERE body = ANY($1)", list(acked["review"])),
            "question": await conn.fetch("SELECT body FROM qa.question WHERE body = ANY($1)", list(acked["question"])),
            "answer": await conn.fetch("SELECT body FROM qa.answer WHERE body = ANY($1)", list(acked["answer"])),
            "interaction": await conn.fetch("SELECT element FROM interactions.interaction WHERE element = ANY($1)",
                                            list(acked["interaction"])),
        }
        helpful = await conn.fetchval(HELPFULNESS, VOTED_REVIEW)
    finally:
        await conn.close()
    missing = {kind: sorted(acked[kind] - {r[0] for r in rows}) for kind, rows in stored.items()}
    acked_votes = sum(1 for a in answers if a.kind == "helpful" and a.status == 204)
    return missing, (acked_votes, helpful - helpful_before, sent_votes)


async def helpfulness(database_url: str) -> int:
    """The voted review's helpfulness now (before a stream, for `missing_writes`)."""
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(HELPFULNESS, VOTED_REVIEW))
    finally:
        await conn.close()


async def cart_counts(base_url: str, answers: list[Answer]) -> list[tuple[int, int, int]]:
    """(acknowledged, stored, sent) cart additions of each session, read back through GET /cart."""
    by_session: dict[str, list[int]] = {}
    for a in answers:
        if a.kind == "cart" and a.marker:
            acked_sent = by_session.setdefault(a.marker, [0, 0])
            acked_sent[0] += a.status == 201
            acked_sent[1] += 1
    parts = urlsplit(base_url)
    conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
    counts = []
    try:
        for session, (acked, sent) in by_session.items():
            status, _, body = await conn.request("GET", "/cart", headers={"cookie": f"atelier_session={session}"})
            assert status == 200, status
            stored = sum(item["count"] for item in json.loads(body) if item["sku_id"] == 1)
            counts.append((acked, stored, sent))
    finally:
        conn.close()
    return counts
