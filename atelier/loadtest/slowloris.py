"""Hostile clients for tests and benchmarks, held open and reopened when the server cuts them, as an
attacker would. Three kinds: `slow` connections send a request's headers one byte at a time
(slowloris), `idle` ones send one request, read its answer and then stay open saying nothing
(keep-alive), `silent` ones never send a byte. Loopback only, like every load this project generates."""

from __future__ import annotations

import errno
import selectors
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field

from ..core.limits import raise_open_file_limit

# Headers that never end: one more byte of this value every `drip` seconds.
_SLOW_START = b"GET /products/1 HTTP/1.1\r\nHost: atelier\r\nX-Slow: "
_SLOW_BYTE = b"a"
# An idle connection's one request: a path no route knows, answered 404 without the database, so that
# reopening idle connections costs the server little more than the connections themselves.
_ONE_REQUEST = b"GET /idle HTTP/1.1\r\nHost: atelier\r\n\r\n"
KINDS = ("slow", "idle", "silent")
_SELECT_TIMEOUT = 0.05  # seconds: the resolution of the lifetimes measured


@dataclass
class Cut:
    """Connections the server closed, with how long each had been open without a request in flight
    (seconds): since its connection (slow, silent) or since its answer (idle)."""
    slow: list[float] = field(default_factory=list)
    idle: list[float] = field(default_factory=list)
    silent: list[float] = field(default_factory=list)


@dataclass
class Report:
    opened: int
    connect_failures: int
    cut: Cut
    held_at_end: int

    def lifetimes(self, kind: str) -> str:
        values = getattr(self.cut, kind)
        if not values:
            return f"{kind}: none cut"
        return (f"{kind}: {len(values):,} cut after {statistics.median(values):.2f} s median, "
                f"{min(values):.2f}-{max(values):.2f} s")


@dataclass
class _Connection:
    sock: socket.socket
    kind: str
    since: float  # when its header or idle timer started, as the server sees it
    answered: bool = False  # idle: its one request was answered


class SlowClients:
    """`slow`, `idle` and `silent` connections to host:port, driven by a thread until `stop()`."""

    def __init__(self, host: str, port: int, slow: int, idle: int, silent: int = 0, drip: float = 1.0,
                 reconnect: bool = True, connect_timeout: float = 2.0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("hostile clients run against loopback only")
        self.address = (host, port)
        self.wanted = {"slow": slow, "idle": idle, "silent": silent}
        self.drip = drip
        self.reconnect = reconnect
        self.connect_timeout = connect_timeout
        self.selector = selectors.DefaultSelector()
        self.open: dict[int, _Connection] = {}
        self.cut = Cut()
        self.opened = 0
        self.connect_failures = 0
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Opens every connection (the slow ones send their first bytes), then drives them in a thread."""
        raise_open_file_limit()
        for kind, count in self.wanted.items():
            for _ in range(count):
                self._connect(kind)
        self._running.set()
        self._thread = threading.Thread(target=self._drive, name="slow-clients", daemon=True)
        self._thread.start()

    def stop(self) -> Report:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(10)
        held = len(self.open)
        for conn in list(self.open.values()):
            self._close(conn)
        self.selector.close()
        return Report(self.opened, self.connect_failures, self.cut, held)

    def count(self, kind: str) -> int:
        return sum(1 for c in list(self.open.values()) if c.kind == kind)

    def _connect(self, kind: str) -> None:
        try:
            sock = socket.create_connection(self.address, timeout=self.connect_timeout)
            sock.setblocking(False)
            if kind == "slow":
                sock.send(_SLOW_START)
            elif kind == "idle":
                sock.send(_ONE_REQUEST)
        except OSError:
            self.connect_failures += 1
            return
        conn = _Connection(sock, kind, time.monotonic())
        self.open[sock.fileno()] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)
        self.opened += 1

    def _close(self, conn: _Connection) -> None:
        self.open.pop(conn.sock.fileno(), None)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _readable(self, conn: _Connection) -> None:
        """The idle connection's answer, a 408 before a close, or the close itself (a cut)."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._was_cut(conn)
        elif conn.kind == "idle" and not conn.answered:
            conn.answered = True
            conn.since = time.monotonic()

    def _was_cut(self, conn: _Connection) -> None:
        getattr(self.cut, conn.kind).append(time.monotonic() - conn.since)
        self._close(conn)
        if self.reconnect and self._running.is_set():
            self._connect(conn.kind)

    def _drive(self) -> None:
        next_drip = time.monotonic() + self.drip
        while self._running.is_set():
            for key, _ in self.selector.select(_SELECT_TIMEOUT):
                self._readable(key.data)
            if time.monotonic() >= next_drip:
                next_drip += self.drip
                for conn in [c for c in self.open.values() if c.kind == "slow"]:
                    try:
                        conn.sock.send(_SLOW_BYTE)
                    except OSError as exc:
                        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                            continue
                        self._was_cut(conn)
