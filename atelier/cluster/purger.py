"""Purging a product's cached answers from every NGINX before a write is acknowledged.

Registered in `App.change_listeners` when `ATELIER_CACHE_PURGE` names NGINX purge endpoints.
Each change sends every key of `cachekeys.keys_of_change` to each NGINX, pipelined on one
kept-alive connection (one round trip per NGINX), twice: at once, and when no answer read
before the commit can still be on its way to the cache (`NginxPurger.__call__`). 200 (purged)
and 404 (was not cached) are both success. Anything else is retried until `timeout`; then the
write answers 503 instead of 201/204: its data is committed, but it cannot be promised that no
cached answer hides it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from ..core.http import HTTPError
from . import cachekeys

log = logging.getLogger("atelier.cluster")

RETRY_DELAYS = (0.02, 0.05, 0.1, 0.2, 0.5)  # seconds between attempts; the last one repeats
STORE_MARGIN = 0.05  # seconds an NGINX worker may take from an answer's header to storing it
MAX_IDLE = 4  # idle connections kept per NGINX


class PurgeFailed(HTTPError):
    def __init__(self, endpoint: str) -> None:
        super().__init__(503, f"saved, but the cache at {endpoint} could not be purged: read it again later",
                         as_json=True)


class Endpoint:
    """One NGINX's purge server, with the idle connections to it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise SystemExit(f"ATELIER_CACHE_PURGE: not an http://host:port URL: {url!r}")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def purge(self, keys: Sequence[str], io_timeout: float) -> None:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), io_timeout)
        try:
            request = b"".join(b"GET /purge/%s HTTP/1.1\r\nHost: nginx\r\n\r\n" % key.encode() for key in keys)
            writer.write(request)
            await asyncio.wait_for(self._read_answers(reader, len(keys)), io_timeout)
        except BaseException:
            writer.close()
            raise
        if len(self._idle) < MAX_IDLE:
            self._idle.append((reader, writer))
        else:
            writer.close()

    @staticmethod
    async def _read_answers(reader: asyncio.StreamReader, count: int) -> None:
        for _ in range(count):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if status not in (200, 404):  # purged, or it was not cached
                raise ConnectionError(f"purge answered {status}")

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[1].close()


class NginxPurger:
    def __init__(self, urls: Sequence[str], origins: Sequence[str] = (), timeout: float = 5.0,
                 fill_bound: float = 0.05, io_timeout: float = 1.0, again_after: Sequence[float] = (5.0,)) -> None:
        self.endpoints = [Endpoint(url) for url in urls]
        self.origins = tuple(origins)
        self.timeout = timeout
        self.io_timeout = io_timeout
        self.fill_bound = fill_bound  # seconds; NGINX's fill_bound_ms
        self.again_after = tuple(again_after)  # seconds after the first purge
        self._trailing: set[asyncio.Task[None]] = set()

    async def __call__(self, product_id: int, question_id: int | None) -> None:
        """Returns when no answer read before the commit can be served any more: the keys are purged
        at once (the bulk of old answers), and again once every answer that could have been read
        before the commit has been stored or dropped by NGINX, which stores only answers that came
        within `fill_bound` of being sent to the API (cachekeys.nginx_maps)."""
        committed = asyncio.get_running_loop().time()
        keys = cachekeys.keys_of_change(product_id, question_id, self.origins)
        await asyncio.gather(*(self._purge(endpoint, keys) for endpoint in self.endpoints))
        await asyncio.sleep(max(0.0, committed + self.fill_bound + STORE_MARGIN - asyncio.get_running_loop().time()))
        await asyncio.gather(*(self._purge(endpoint, keys) for endpoint in self.endpoints))
        if self.again_after:
            task = asyncio.get_running_loop().create_task(self._purge_again(keys))
            self._trailing.add(task)
            task.add_done_callback(self._trailing.discard)

    async def _purge_again(self, keys: list[str]) -> None:
        """Belt and braces for an NGINX worker that stalled longer than STORE_MARGIN between an
        answer's header and its store: the keys are purged again `again_after` seconds later."""
        waited = 0.0
        for delay in self.again_after:
            await asyncio.sleep(delay - waited)
            waited = delay
            try:
                await asyncio.gather(*(self._purge(endpoint, keys) for endpoint in self.endpoints))
            except PurgeFailed:
                pass  # logged; the write was acknowledged after the first purge succeeded

    async def _purge(self, endpoint: Endpoint, keys: Sequence[str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        attempt = 0
        while True:
            try:
                await endpoint.purge(keys, self.io_timeout)
                return
            except (OSError, EOFError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError) as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                if loop.time() + delay > deadline:
                    log.error("cache purge at %s failed %d times (%s): answering 503", endpoint.url, attempt, exc)
                    raise PurgeFailed(endpoint.url) from None
                await asyncio.sleep(delay)

    async def close(self) -> None:
        for task in list(self._trailing):
            task.cancel()
        for endpoint in self.endpoints:
            endpoint.close()
