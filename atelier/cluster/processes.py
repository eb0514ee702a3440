"""Starting, watching and stopping the processes of a cluster, by pid (never by name)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def spawn(command: list[str], log: Path, env: dict[str, str], netns: str | None = None) -> int:
    """A detached process (its own session, so `up` can return) writing to `log`; its pid."""
    if netns is not None:
        command = ["ip", "netns", "exec", netns, *command]  # exec: the pid stays the same
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    return proc.pid


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop(pid: int | None, grace: float = 10.0, group: bool = True) -> None:
    """SIGTERM to the process (and its group: a Granian server and its workers), SIGKILL after
    `grace` seconds."""
    if not alive(pid):
        return
    assert pid is not None
    send: Callable[[int, int], None] = os.killpg if group else os.kill
    try:
        send(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        try:
            send(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap(pid)


def kill(pid: int) -> None:
    """SIGKILL to a process and its group: a crash, for the fault tests."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")


def require_searchable(path: Path, who: str) -> None:
    """Every folder above `path` must let other users through: `who` runs as another user."""
    for parent in path.resolve().parents:
        if not os.stat(parent).st_mode & 0o001:
            raise SystemExit(f"{parent} is not searchable by other users, so {who} cannot reach {path}: "
                             "choose a --dir outside it")
