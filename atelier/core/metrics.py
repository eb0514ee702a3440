"""Request metrics summed over every API process, served as Prometheus text and compact JSON.

Granian runs several worker processes. Each one writes its numbers into a memory-mapped file of
its own in one shared directory (`ATELIER_METRICS_DIR`; `serve` creates a temporary one and
exports it to its workers), and `/metrics` reads and sums all the files. Recording a request is
a dictionary lookup and five float stores into the mapping (about 2 µs): no lock, no system call.
`ATELIER_METRICS=0` turns everything off (no observer, no files).

Other code records its own figures with `count(name, route)` (a counter) and `set_gauge(name, n)`
/ `add_gauge(name, delta)` (a gauge, summed over the live processes). Recorded today: the
`pending_writes` gauge (rows of POST /interactions accepted and not yet committed, see
interactions/batcher.py). There is no response cache in the API; a cache in front of it (NGINX)
reports its own hit rate.

File layout (little-endian): a 16-byte header (magic, keys written, key bytes used, value slots
used), SLOTS float64 values, then the key area: per key its first slot (u32), its width (u16),
its length (u16) and its text, a JSON array. A key is published by bumping the header's key
count after its entry is written, so readers in other processes never see half a key.
"""

from __future__ import annotations

import atexit
import bisect
import logging
import math
import mmap
import os
import re
import shutil
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .http import Request, Response, raw_json
from .operations import Answer, Operation, json_answer

log = logging.getLogger("atelier.metrics")

DIR_ENV = "ATELIER_METRICS_DIR"
ENABLE_ENV = "ATELIER_METRICS"

# Latency histogram upper bounds, in seconds (a last +Inf bucket follows).
BOUNDS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02,
    0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)
SERIES_WIDTH = 2 + len(BOUNDS) + 1  # count, sum, one slot per bucket

MAGIC = b"ATM1"
HEADER = struct.Struct("<4sIII")  # magic, keys, key bytes, slots used
ENTRY = struct.Struct("<IHH")  # first slot, width, key length
SLOTS = 32768
KEY_AREA = 256 * 1024
FILE_SIZE = HEADER.size + SLOTS * 8 + KEY_AREA
FILE_PATTERN = re.compile(r"^worker-(\d+)\.metrics$")

_IN_USE = ("g", "db_pool_in_use", "")
_WAITING = ("g", "db_pool_waiting", "")
_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# The monitoring endpoints themselves: left out of the dashboard's totals.
INTERNAL_ROUTES = frozenset(("/metrics", "/metrics.json", "/dashboard"))


def enabled() -> bool:
    return os.environ.get(ENABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class Store:
    """One process's numbers: a memory-mapped file (or, without a directory, plain memory)."""

    def __init__(self, directory: Path | None) -> None:
        self.pid = os.getpid()
        self.path: Path | None = None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / f"worker-{self.pid}.metrics"
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, FILE_SIZE)
                self.buffer: Any = mmap.mmap(fd, FILE_SIZE)
            finally:
                os.close(fd)
        else:
            self.buffer = bytearray(FILE_SIZE)
        HEADER.pack_into(self.buffer, 0, MAGIC, 0, 0, 0)
        self.values = memoryview(self.buffer)[HEADER.size:HEADER.size + SLOTS * 8].cast("d")
        self.slots: dict[tuple, int] = {}  # key -> first slot
        self.series: dict[tuple[str, str, int], int] = {}  # (route, method, status) -> first slot
        self._keys = 0
        self._key_bytes = 0
        self._slots_used = 0
        # Reserved first: the pool gauges (slots 0 and 1, written on every request) and the series
        # that takes the requests of new series once the file is full.
        self.slot(_IN_USE)
        self.slot(_WAITING)
        self.overflow = self.slot(("h", "overflow", "OTHER", 0), SERIES_WIDTH)

    def slot(self, key: tuple, width: int = 1) -> int:
        """The first slot of `key`, allocated (all zeros) on first use; -1 when the file is full."""
        found = self.slots.get(key)
        if found is not None:
            return found
        text = orjson.dumps(key)
        start = HEADER.size + SLOTS * 8 + self._key_bytes
        if self._slots_used + width > SLOTS or self._key_bytes + ENTRY.size + len(text) > KEY_AREA:
            log.warning("metrics file full: %r is not recorded", key)
            self.slots[key] = -1
            return -1
        first = self._slots_used
        ENTRY.pack_into(self.buffer, start, first, width, len(text))
        self.buffer[start + ENTRY.size:start + ENTRY.size + len(text)] = text
        self._slots_used += width
        self._key_bytes += ENTRY.size + len(text)
        self._keys += 1
        HEADER.pack_into(self.buffer, 0, MAGIC, self._keys, self._key_bytes, self._slots_used)
        self.slots[key] = first
        return first

    def series_slot(self, route: str, method: str, status: int) -> int:
        """First slot of a request series, allocated on first use (the overflow series when full)."""
        if route == "unmatched" and method not in _METHODS:
            method = "OTHER"  # clients choose unmatched methods: keep the label set bounded
        base = self.slot(("h", route, method, status), SERIES_WIDTH)
        if base < 0:
            base = self.overflow
        if method != "OTHER":
            self.series[(route, method, status)] = base
        return base

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        base = self.series.get((route, method, status))
        if base is None:
            base = self.series_slot(route, method, status)
        values = self.values
        values[base] += 1.0
        values[base + 1] += seconds
        values[base + 2 + bisect.bisect_left(BOUNDS, seconds)] += 1.0

    def add(self, key: tuple, amount: float) -> None:
        at = self.slot(key)
        if at >= 0:
            self.values[at] += amount

    def set(self, key: tuple, value: float) -> None:
        at = self.slot(key)
        if at >= 0:
            self.values[at] = value


_store: Store | None = None
_enabled = enabled()
_bisect = bisect.bisect_left


def _forget_store() -> None:
    global _store
    _store = None


os.register_at_fork(after_in_child=_forget_store)  # a forked child writes its own file


def store() -> Store | None:
    """This process's store (created on first use; a forked child gets its own)."""
    global _store
    if not _enabled:
        return None
    if _store is None or _store.pid != os.getpid():
        directory = os.environ.get(DIR_ENV)
        _store = Store(Path(directory) if directory else None)
    return _store


# The API other code calls ------------------------------------------------------------------


def count(name: str, route: str = "", amount: float = 1.0) -> None:
    """Adds to the counter `atelier_<name>_total{route=...}` (e.g. count("cache_hits", route))."""
    s = store()
    if s is not None:
        s.add(("c", _checked(name), route), amount)


def set_gauge(name: str, value: float, label: str = "") -> None:
    """Sets this process's share of the gauge `atelier_<name>` (summed over live processes)."""
    s = store()
    if s is not None:
        s.set(("g", _checked(name), label), value)


def add_gauge(name: str, delta: float, label: str = "") -> None:
    s = store()
    if s is not None:
        s.add(("g", _checked(name), label), delta)


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"metric names are lower_case_with_underscores, got {name!r}")
    return name


def observe(request: Request, response: Response, seconds: float) -> None:
    """The App observer: the request into its route's histogram, and the pool's state.

    The hot path (a few microseconds): one dictionary lookup and five stores into the mapping."""
    s = _store or store()
    if s is None:
        return
    base = s.series.get((request.route, request.method, response.status))
    if base is None:
        base = s.series_slot(request.route, request.method, response.status)
    values = s.values
    values[base] += 1.0
    values[base + 1] += seconds
    values[base + 2 + _bisect(BOUNDS, seconds)] += 1.0
    pool = request.app.pool
    if pool is not None:
        # Sampled as each request ends (its own connection is back): exact when idle.
        values[0] = pool.in_use
        values[1] = pool.waiting


# Reading every process's file --------------------------------------------------------------


@dataclass
class Snapshot:
    """Sums over every process: histograms by (route, method, status), counters and gauges."""

    series: dict[tuple[str, str, int], list[float]] = field(default_factory=dict)
    counters: dict[tuple[str, str], float] = field(default_factory=dict)
    gauges: dict[tuple[str, str], float] = field(default_factory=dict)
    processes: int = 0  # live processes that reported


def read_file(data: bytes) -> Iterator[tuple[list[Any], list[float]]]:
    """(key, values) for every key of one process's file (its whole content)."""
    if len(data) < HEADER.size:
        return iter(())
    return _entries(data[:HEADER.size], data[HEADER.size:HEADER.size + SLOTS * 8], data[HEADER.size + SLOTS * 8:])


def _read_path(path: str) -> Iterator[tuple[list[Any], list[float]]]:
    """Reads only the used parts of a process's file: a few kilobytes, not the whole mapping."""
    with open(path, "rb") as f:
        header = f.read(HEADER.size)
        if len(header) < HEADER.size:
            return iter(())
        _, _, key_bytes, slots_used = HEADER.unpack(header)
        values = f.read(slots_used * 8)
        f.seek(HEADER.size + SLOTS * 8)
        keys = f.read(key_bytes)
    return _entries(header, values, keys)


def _entries(header: bytes, values_raw: bytes, keys_raw: bytes) -> Iterator[tuple[list[Any], list[float]]]:
    magic, keys, _, slots_used = HEADER.unpack(header)
    if magic != MAGIC:
        return
    values = memoryview(values_raw)[:slots_used * 8].cast("d")
    at = 0
    for _ in range(keys):
        first, width, length = ENTRY.unpack_from(keys_raw, at)
        key = orjson.loads(keys_raw[at + ENTRY.size:at + ENTRY.size + length])
        at += ENTRY.size + length
        yield key, list(values[first:first + width])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def snapshot() -> Snapshot:
    """Reads and sums every process's file (or this process's memory when there is no directory)."""
    snap = Snapshot()
    own = store()
    directory = os.environ.get(DIR_ENV)
    sources: list[tuple[list[tuple[list[Any], list[float]]], bool]] = []
    if directory and Path(directory).is_dir():
        for entry in os.scandir(directory):
            m = FILE_PATTERN.match(entry.name)
            if m is None:
                continue
            try:
                sources.append((list(_read_path(entry.path)), _alive(int(m.group(1)))))
            except FileNotFoundError:
                continue
    elif own is not None:
        sources.append((list(read_file(bytes(own.buffer))), True))
    for entries, alive in sources:
        snap.processes += alive
        for key, values in entries:
            kind = key[0]
            if kind == "h":
                if not values[0]:
                    continue  # a series never used (the reserved overflow series)
                name = (key[1], key[2], int(key[3]))
                total = snap.series.get(name)
                if total is None:
                    snap.series[name] = values
                else:
                    for i, v in enumerate(values):
                        total[i] += v
            elif kind == "c":
                name2 = (key[1], key[2])
                snap.counters[name2] = snap.counters.get(name2, 0.0) + values[0]
            elif kind == "g" and alive:  # a dead process's gauges no longer hold
                name2 = (key[1], key[2])
                snap.gauges[name2] = snap.gauges.get(name2, 0.0) + values[0]
    return snap


# Prometheus text format ---------------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(v: float) -> str:
    if v == math.inf:
        return "+Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


GAUGE_HELP = {
    "db_pool_in_use": "Read-pool database connections in use, summed over the API processes.",
    "db_pool_waiting": "Requests waiting for a read-pool database connection, summed over the API processes.",
    "pending_writes": "Rows of POST /interactions accepted and not yet committed, summed over the API processes.",
}


def prometheus(snap: Snapshot) -> str:
    out: list[str] = []
    add = out.append
    series = sorted(snap.series.items())
    add("# HELP atelier_http_requests_total Requests answered, by route template, method and status.")
    add("# TYPE atelier_http_requests_total counter")
    for (route, method, status), values in series:
        add(f'atelier_http_requests_total{{route="{_label(route)}",method="{method}",status="{status}"}} '
            f"{_number(values[0])}")
    add("# HELP atelier_http_request_duration_seconds Time in the application per request.")
    add("# TYPE atelier_http_request_duration_seconds histogram")
    for (route, method, status), values in series:
        labels = f'route="{_label(route)}",method="{method}",status="{status}"'
        cumulative = 0.0
        for bound, in_bucket in zip((*BOUNDS, math.inf), values[2:]):
            cumulative += in_bucket
            add(f'atelier_http_request_duration_seconds_bucket{{{labels},le="{_number(bound)}"}} '
                f"{_number(cumulative)}")
        add(f"atelier_http_request_duration_seconds_sum{{{labels}}} {values[1]!r}")
        add(f"atelier_http_request_duration_seconds_count{{{labels}}} {_number(values[0])}")
    gauges = dict(snap.gauges)
    gauges.setdefault(("db_pool_in_use", ""), 0.0)
    gauges.setdefault(("db_pool_waiting", ""), 0.0)
    gauges.setdefault(("pending_writes", ""), 0.0)
    for name in sorted({g for g, _ in gauges}):
        add(f"# HELP atelier_{name} {GAUGE_HELP.get(name, 'Gauge summed over the live API processes.')}")
        add(f"# TYPE atelier_{name} gauge")
        for (gauge, label), value in sorted(gauges.items()):
            if gauge == name:
                add(f'atelier_{name}{{label="{_label(label)}"}} {_number(value)}' if label
                    else f"atelier_{name} {_number(value)}")
    for name in sorted({c for c, _ in snap.counters}):
        add(f"# HELP atelier_{name}_total Counter summed over the API processes.")
        add(f"# TYPE atelier_{name}_total counter")
        for (counter, route), value in sorted(snap.counters.items()):
            if counter == name:
                add(f'atelier_{name}_total{{route="{_label(route)}"}} {_number(value)}' if route
                    else f"atelier_{name}_total {_number(value)}")
    add("# HELP atelier_metrics_processes API processes whose metrics are included.")
    add("# TYPE atelier_metrics_processes gauge")
    add(f"atelier_metrics_processes {snap.processes}")
    return "\n".join(out) + "\n"


def summary(snap: Snapshot) -> dict[str, Any]:
    """The compact form the dashboard polls: per route (all statuses), counts and buckets."""
    routes: dict[str, dict[str, Any]] = {}
    for (route, method, status), values in snap.series.items():
        name = f"{method} {route}"
        r = routes.get(name)
        if r is None:
            r = routes[name] = {"count": 0, "sum": 0.0, "4xx": 0, "5xx": 0, "buckets": [0] * (len(BOUNDS) + 1),
                                "internal": route in INTERNAL_ROUTES}
        r["count"] += int(values[0])
        r["sum"] += values[1]
        if 400 <= status < 500:
            r["4xx"] += int(values[0])
        elif status >= 500:
            r["5xx"] += int(values[0])
        buckets = r["buckets"]
        for i, n in enumerate(values[2:]):
            buckets[i] += int(n)
    counters: dict[str, dict[str, float]] = {}
    for (name, route), v in snap.counters.items():
        counters.setdefault(name, {})[route] = v
    gauges = {name + (f":{label}" if label else ""): v for (name, label), v in snap.gauges.items()}
    return {"enabled": True, "time": time.time(), "processes": snap.processes, "bounds": list(BOUNDS),
            "routes": routes, "counters": counters, "gauges": gauges}


# Wiring into the application and the server -----------------------------------------------

_DISABLED_TEXT = "# metrics are disabled (ATELIER_METRICS=0)\n"


async def metrics_endpoint(request: Request) -> Response:
    if not _enabled:
        return Response(200, _DISABLED_TEXT.encode(), "text/plain; version=0.0.4; charset=utf-8")
    return Response(200, prometheus(snapshot()).encode(), "text/plain; version=0.0.4; charset=utf-8")


async def metrics_json_endpoint(request: Request) -> Response:
    if not _enabled:
        return raw_json(b'{"enabled":false}')
    return raw_json(orjson.dumps(summary(snapshot())))


def install(app: Any) -> None:
    """Registers /metrics and /metrics.json and, unless ATELIER_METRICS=0, the request observer."""
    app.router.add("GET", "/metrics", metrics_endpoint, Operation(
        "Prometheus metrics of every API process",
        Answer(200, "Prometheus text exposition format 0.0.4", "text/plain", {"type": "string"}),
        database=False, tags=("monitoring",)))
    app.router.add("GET", "/metrics.json", metrics_json_endpoint, Operation(
        "Compact metrics for the dashboard", json_answer(200, "Totals and per-route figures", {"type": "object"}),
        database=False, tags=("monitoring",)))
    if _enabled:
        app.observers.append(observe)
        store()  # each worker reports (and counts in atelier_metrics_processes) from its start


class MetricsDirectory:
    """The directory the workers of one `serve` share; removed at exit if `serve` created it."""

    def __init__(self) -> None:
        self.created: Path | None = None
        if not _enabled:
            return
        given = os.environ.get(DIR_ENV)
        if given:
            path = Path(given)
            path.mkdir(parents=True, exist_ok=True)
            for entry in os.scandir(path):  # files of an earlier run would be summed in
                m = FILE_PATTERN.match(entry.name)
                if m is not None and not _alive(int(m.group(1))):
                    os.unlink(entry.path)
        else:
            self.created = Path(tempfile.mkdtemp(prefix="atelier-metrics-"))
            os.environ[DIR_ENV] = str(self.created)
            atexit.register(self.cleanup)

    def cleanup(self) -> None:
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)


def prepare_directory() -> MetricsDirectory:
    """Called by `serve` before the workers start: they inherit ATELIER_METRICS_DIR.

    Without ATELIER_METRICS_DIR a temporary directory is created and removed when `serve` exits;
    a given directory is kept, but files left by processes that no longer run are removed."""
    return MetricsDirectory()
