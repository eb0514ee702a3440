"""A database that goes away answers 503 quickly, and service recovers by itself when it returns.

The server reaches the real PostgreSQL through a TCP relay in this process; stopping the relay
cuts every connection the way a database crash or network partition does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
import pytest
from conftest import Server, free_port


class Relay:
    """Forwards 127.0.0.1:port to the database; `stop()` refuses new and cuts open connections."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        self.unix_path = f"{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else None
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.port = free_port()
        netloc = f"{parts.username or 'postgres'}@127.0.0.1:{self.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.unix_path:
            return await asyncio.open_unix_connection(self.unix_path)
        return await asyncio.open_connection(*self.target)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._open()
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def start(self) -> None:
        async def go() -> None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)

    def stop(self) -> None:
        async def go() -> None:
            if self.server is not None:
                self.server.close()
                await self.server.wait_closed()
            for w in list(self.writers):
                w.transport.abort()
            self.writers.clear()

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(5)


@pytest.fixture()
def relay(sample_db: str) -> Iterator[Relay]:
    r = Relay(sample_db)
    r.start()
    yield r
    r.stop()


def wait_for_status(client: httpx.Client, path: str, status: int, within: float) -> int:
    deadline = time.monotonic() + within
    last = 0
    while time.monotonic() < deadline:
        last = client.get(path).status_code
        if last == status:
            return last
        time.sleep(0.2)
    return last


def test_database_down_gives_503_then_recovers(relay: Relay) -> None:
    server = Server(relay.url)
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/products/1").status_code == 200
            relay.stop()
            for path in ("/products/1", "/products/1/styles", "/products?count=3", "/health"):
                r = client.get(path)  # a hang would raise httpx.ReadTimeout after 5 s
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert r.json()["error"].startswith("database")
            # bad input is still judged without the database
            assert client.get("/products/abc").status_code == 422
            relay.start()
            assert wait_for_status(client, "/products/1", 200, within=15) == 200
            assert client.get("/products/1/related").json() == [2, 3, 8, 7]
    finally:
        server.stop()


def test_server_started_without_database_recovers(sample_db: str) -> None:
    relay = Relay(sample_db)  # not started: nothing listens on its port yet
    server = None
    try:
        # serve runs migrations first; start it with the relay up, then cut it before the first request
        relay.start()
        server = Server(relay.url)
        relay.stop()
        with httpx.Client(base_url=server.url, timeout=5) as client:
            assert client.get("/products/1").status_code == 503
            relay.start()
            assert wait_for_status(client, "/products/1", 200, within=15) == 200
    finally:
        relay.stop()
        if server is not None:
            server.stop()
