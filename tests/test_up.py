"""`atelier up`, the README's first command: embedded PostgreSQL, generated data, the server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from conftest import ROOT, atelier, free_port

from atelier.core.embedded import EmbeddedPostgres


def start_up(home: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ATELIER_HOME"] = str(home)
    return subprocess.Popen([sys.executable, "-m", "atelier", "up", "--port", str(port), "--scale", "0.0005"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_ready(proc: subprocess.Popen[str], url: str, within: float = 240) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"atelier up exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(url + "/products/1", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("atelier up did not serve in time")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return out


def postmaster_running(home: Path) -> bool:
    pid_file = home / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def test_up_serves_from_embedded_database_and_reuses_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_up(home, port)
    try:
        wait_ready(proc, url)
        assert httpx.get(url + "/products/1/related").json() == [2, 3, 8, 7]
        assert httpx.get(url + "/products/11/styles").json() == {"product_id": "11", "results": []}
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "embedded PostgreSQL stopped" in out
    assert not postmaster_running(home)

    proc = start_up(home, port)  # the second run reuses the data: no generation, no load
    try:
        wait_ready(proc, url)
        assert httpx.get(url + "/products/1").json()["name"] == "Camo Onesie"
    finally:
        out = stop(proc)
    assert "database has data" in out
    assert not postmaster_running(home)


def set_layout_version(database_url: str, service: str, version: int) -> None:
    """As if the service's tables had been loaded by an atelier with another layout."""
    async def go() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("UPDATE public.atelier_schema SET version = $1 WHERE service = $2", version, service)
        finally:
            await conn.close()

    asyncio.run(go())


def test_up_reloads_a_service_stored_with_an_older_layout(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_up(home, port)
    try:
        wait_ready(proc, url)
    finally:
        stop(proc)

    embedded = EmbeddedPostgres(home)
    try:
        set_layout_version(embedded.start(), "reviews", 1)
    finally:
        embedded.stop()

    proc = start_up(home, port)
    try:
        wait_ready(proc, url)
        assert [r["review_id"] for r in httpx.get(url + "/reviews?product_id=2").json()["results"]] == [5, 3, 4, 7, 6]
        assert httpx.put(url + "/reviews/6/helpful").status_code == 204
    finally:
        out = stop(proc)
    assert "reloading reviews" in out and "reviews: loaded and live" in out


def test_serve_refuses_a_database_with_an_older_layout(empty_db: str) -> None:
    atelier("migrate", env={"DATABASE_URL": empty_db})
    set_layout_version(empty_db, "reviews", 1)
    result = atelier("serve", "--port", str(free_port()), env={"DATABASE_URL": empty_db}, check=False, timeout=60)
    assert result.returncode != 0
    assert "reload before serving: atelier load --data DIR --only reviews" in result.stderr
