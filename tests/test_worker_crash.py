"""`kill -9` of one worker of `atelier serve --workers 2` under load: the server keeps answering, the
worker is replaced, and fewer than 0.1% of the requests of the run fail (those in flight on it)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import Server, atelier


def workers_of(pid: int) -> set[int]:
    """Granian's worker processes: the server's forked children, not the preparer (preparer.py) nor
    multiprocessing's resource tracker, which are started with their own command lines."""
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.update(int(c) for c in (task / "children").read_text().split())
    own = Path(f"/proc/{pid}/cmdline").read_bytes()
    return {child for child in children if _cmdline(child) == own}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return b""


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (bench/install-tools.sh)")
def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(sample_db: str, tmp_path: Path) -> None:
    server = Server(sample_db, workers=2)
    try:
        deadline = time.monotonic() + 20
        while len(workers_of(server.proc.pid)) < 2:  # both workers spawned
            assert time.monotonic() < deadline
            time.sleep(0.1)
        before = workers_of(server.proc.pid)
        result: dict[str, object] = {}

        def load() -> None:  # 8 connections, so that at most about 4 are in flight on the killed worker
            atelier("loadtest", "max", "--url", server.url, "--mix", "styles", "--max-id", "5", "--duration", "6",
                    "--connections", "8", "--out", str(tmp_path), "--name", "crash", "--no-html", timeout=60)
            result.update(json.loads((tmp_path / "crash.json").read_text()))

        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(2)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        thread.join(60)

        assert server.proc.poll() is None, "the main process exited"
        after = workers_of(server.proc.pid)
        assert len(after) == 2 and victim not in after, (before, after)
        assert httpx.get(server.url + "/products/1", timeout=5).status_code == 200
        requests, failed = result["offered"], result["error_total"]
        assert isinstance(requests, int) and isinstance(failed, int) and requests > 1000, result
        assert failed / requests < 0.001, result["errors"]
        log = Path(server.log.name).read_text()
        assert "Respawning worker" in log
    finally:
        server.stop()
