"""A cluster: its plan, its state file, and `up`, `status`, `scale` and `down`.

Everything `up` starts is recorded in `<dir>/cluster.json` as soon as it runs, so `down` stops
exactly that (by pid) even after a failed `up`, and two clusters in two folders never meet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

from . import admin, cachekeys, nginx, processes
from .netns import Segment, free_subnet
from .postgres import Server

API_PORT_IN_HOST = 8000  # --hosts: every host has its own ports
PG_PORT_IN_HOST = 5432
PURGE_PORT_IN_HOST = 8081


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Options:
    api: int = 2
    replica: bool = False
    cache: bool = False
    hosts: bool = False
    port: int = 3000
    database_url: str | None = None  # None: a private primary under the cluster's folder
    data: Path | None = None  # load this folder into a private primary (default: generated data)
    scale: float = 0.01
    seed: int = 1
    home: Path = Path(".atelier")
    cache_origins: list[str] = field(default_factory=list)
    max_lag: float = 1.0
    workers: int = 1  # Granian workers per API process
    cache_log: bool = False  # NGINX logs each answer's cache status (bench/cluster_matrix.py counts hits)
    fsync: bool = True  # False: private servers without fsync (throw-away clusters: tests)
    fill_bound_ms: int = 50  # the cache stores answers that came within this (purger.py, cachekeys.py)


@dataclass
class Api:
    name: str
    host: str  # address it listens on
    port: int
    pid: int = 0
    netns: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class State:
    folder: str
    options: dict[str, Any]
    url: str = ""  # where clients reach NGINX
    purge_url: str = ""
    database_url: str = ""
    replica_url: str = ""
    standby: str = ""
    primary: dict[str, Any] | None = None  # a private server: folder, host, port, netns
    replica: dict[str, Any] | None = None
    external_primary_changed: bool = False  # ALTER SYSTEM done on a primary we do not manage
    apis: list[Api] = field(default_factory=list)
    nginx_pid: int = 0
    guard_pid: int = 0
    segment: dict[str, Any] | None = None
    next_api: int = 1


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.state_path = self.folder / "cluster.json"
        self.logs = self.folder / "logs"
        self.state: State | None = None

    # ---- state ------------------------------------------------------------------------------

    def load(self) -> State:
        if not self.state_path.exists():
            raise SystemExit(f"no cluster in {self.folder} (atelier cluster up --dir {self.folder})")
        raw = orjson.loads(self.state_path.read_bytes())
        raw["apis"] = [Api(**a) for a in raw["apis"]]
        self.state = State(**raw)
        return self.state

    def save(self) -> None:
        assert self.state is not None
        self.state_path.write_bytes(orjson.dumps(asdict(self.state), option=orjson.OPT_INDENT_2,
                                                 default=str))

    @property
    def options(self) -> Options:
        assert self.state is not None
        raw = dict(self.state.options)
        raw["data"] = Path(raw["data"]) if raw.get("data") else None
        raw["home"] = Path(raw["home"])
        return Options(**raw)

    def segment(self) -> Segment | None:
        assert self.state is not None
        return Segment(**self.state.segment) if self.state.segment else None

    # ---- up -----------------------------------------------------------------------------------

    def up(self, options: Options) -> State:
        if self.state_path.exists():
            previous = self.load()
            if any(processes.alive(p) for p in [previous.nginx_pid, previous.guard_pid,
                                                 *(a.pid for a in previous.apis)]):
                raise SystemExit(f"a cluster is already up in {self.folder}: atelier cluster down --dir {self.folder}")
            self.down()
        if options.hosts and options.database_url:
            raise SystemExit("--hosts runs the primary on a host of its own: unset DATABASE_URL (the cluster "
                             "then starts a private primary and loads --data or generated data into it)")
        if options.hosts and os.geteuid() != 0:
            raise SystemExit("--hosts creates network namespaces and veth links: run it as root")
        if not options.hosts and not _port_free(options.port):
            raise SystemExit(f"port {options.port} is in use (another service, or another cluster): "
                             "pass --port with a free one")
        nginx.nginx_binary()
        try:
            cachekeys.fast_fill_pattern(options.fill_bound_ms)
        except ValueError as exc:
            raise SystemExit(f"--fill-bound-ms: {exc}") from None
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            processes.require_searchable(self.folder / "nginx", "NGINX's workers (user nobody)")
        self.logs.mkdir(exist_ok=True)
        options_raw = {**asdict(options), "data": str(options.data) if options.data else None,
                       "home": str(options.home)}
        standby = "atelier_" + hashlib.sha1(str(self.folder).encode()).hexdigest()[:8]
        self.state = State(folder=str(self.folder), options=options_raw, standby=standby)
        self.save()
        try:
            self._up(options)
        except BaseException:
            print("atelier cluster: up failed; stopping what it started", file=sys.stderr)
            self.down()
            raise
        return self.state

    def _up(self, options: Options) -> None:
        state = self.state
        assert state is not None
        segment = None
        if options.hosts:
            prefix = "at" + hashlib.sha1(str(self.folder).encode()).hexdigest()[:4]
            segment = Segment(prefix=prefix, subnet=free_subnet())
            state.segment = asdict(segment)
            self.save()
            try:
                segment.create()
            finally:
                state.segment = asdict(segment)
                self.save()
        self._start_databases(options, segment)
        if options.hosts:
            assert segment is not None
            nginx_host = segment.address("lb")
            purge = f"{nginx_host}:{PURGE_PORT_IN_HOST}"
            state.url = f"http://{nginx_host}:{options.port}"
        else:
            purge = f"127.0.0.1:{free_port()}"
            state.url = f"http://127.0.0.1:{options.port}"
        state.purge_url = f"http://{purge}"
        self.save()
        for _ in range(max(options.api, 2 if options.hosts else 1)):
            self._start_api()
        self._start_nginx(options, purge)

    def _start_databases(self, options: Options, segment: Segment | None) -> None:
        state = self.state
        assert state is not None
        trusted = [segment.network] if segment else ["127.0.0.1/32"]
        if options.database_url:
            state.database_url = options.database_url
            parts = urlsplit(options.database_url)
            primary_host, primary_port = parts.hostname or "127.0.0.1", parts.port or 5432
        else:
            host = segment.address("pg1") if segment else "127.0.0.1"
            port = PG_PORT_IN_HOST if segment else free_port()
            primary = Server(self.folder / "primary", host, port, segment.ns("pg1") if segment else None,
                             options.fsync)
            state.primary = {"folder": str(primary.folder), "host": host, "port": port, "netns": primary.netns}
            self.save()
            primary.init_primary(trusted)
            primary.start()
            asyncio.run(admin.create_database(primary.url(), "atelier"))
            state.database_url = primary.url("atelier")
            self.save()
            self._load(options, state.database_url)
            primary_host, primary_port = host, port
        if not options.replica:
            return
        asyncio.run(admin.require_replication_rights(state.database_url))
        host = segment.address("pg2") if segment else "127.0.0.1"
        port = PG_PORT_IN_HOST if segment else free_port()
        replica = Server(self.folder / "replica", host, port, segment.ns("pg2") if segment else None,
                         options.fsync)
        state.replica = {"folder": str(replica.folder), "host": host, "port": port, "netns": replica.netns}
        state.external_primary_changed = options.database_url is not None
        self.save()
        asyncio.run(admin.set_primary(state.database_url, {"synchronous_commit": "remote_apply"}))
        replica.init_replica(primary_host, primary_port, state.standby, trusted)
        replica.start()
        state.replica_url = urlunsplit(urlsplit(state.database_url)._replace(netloc=f"postgres@{host}:{port}"))
        guard = [sys.executable, "-m", "atelier.cluster.syncguard", state.database_url, state.standby]
        state.guard_pid = processes.spawn(guard, self.logs / "syncguard.log", dict(os.environ),
                                          segment.ns("pg1") if segment else None)
        self.save()
        processes.wait_until(lambda: asyncio.run(admin.standby_synchronous(state.database_url, state.standby)), 120,
                             "the replica to stream as a synchronous standby", interval=0.3)

    def _load(self, options: Options, database_url: str) -> None:
        from ..cli import _prepare, load_data

        if options.data is not None:
            asyncio.run(load_data(database_url, options.data, self.folder / "rejects", None))
        else:
            from ..core.config import Settings

            settings = Settings(database_url=database_url, home=options.home)
            asyncio.run(_prepare(settings, argparse.Namespace(scale=options.scale, seed=options.seed)))

    def _api_env(self) -> dict[str, str]:
        state = self.state
        assert state is not None
        options = self.options
        env = {**os.environ, "DATABASE_URL": state.database_url, "ATELIER_WORKERS": str(options.workers)}
        for name in ("ATELIER_REPLICA_URL", "ATELIER_CACHE_PURGE", "ATELIER_CACHE_ORIGINS", "ATELIER_METRICS_DIR"):
            env.pop(name, None)
        if state.replica_url:
            env.update(ATELIER_REPLICA_URL=state.replica_url, ATELIER_REPLICA_NAME=state.standby,
                       ATELIER_REPLICA_MAX_LAG=str(options.max_lag))
        if options.cache:
            env.update(ATELIER_CACHE_PURGE=state.purge_url, ATELIER_CACHE_ORIGINS=",".join(options.cache_origins),
                       ATELIER_CACHE_FILL_BOUND_MS=str(options.fill_bound_ms))
        return env

    def _start_api(self) -> Api:
        state = self.state
        assert state is not None
        segment = self.segment()
        number = state.next_api
        state.next_api += 1
        if segment is not None:
            host_name = f"api{1 + (number - 1) % 2}"
            api = Api(f"api{number}", segment.address(host_name), API_PORT_IN_HOST + number,
                      netns=segment.ns(host_name))
        else:
            api = Api(f"api{number}", "127.0.0.1", free_port())
        command = [sys.executable, "-m", "atelier", "serve", "--host", api.host, "--port", str(api.port)]
        api.pid = processes.spawn(command, self.logs / f"{api.name}.log", self._api_env(), api.netns)
        state.apis.append(api)
        self.save()
        processes.wait_until(lambda: processes.alive(api.pid) and _healthy(f"http://{api.address}/health"), 60,
                             f"{api.name} to answer /health (log: {self.logs / (api.name + '.log')})")
        return api

    def _plan(self, purge: str | None = None) -> nginx.NginxPlan:
        state = self.state
        assert state is not None
        options = self.options
        segment = self.segment()
        listen = f"0.0.0.0:{options.port}" if segment else f"127.0.0.1:{options.port}"
        allow = [segment.network] if segment else ["127.0.0.1"]
        return nginx.NginxPlan(folder=self.folder / "nginx", listen=listen, upstreams=[a.address for a in state.apis],
                               purge_listen=purge or urlsplit(state.purge_url).netloc, purge_allow=allow,
                               cache=options.cache, cache_origins=options.cache_origins,
                               cache_log=options.cache_log, fill_bound_ms=options.fill_bound_ms)

    def _start_nginx(self, options: Options, purge: str) -> None:
        state = self.state
        assert state is not None
        segment = self.segment()
        plan = self._plan(purge)
        state.nginx_pid = nginx.start(plan, segment.ns("lb") if segment else None)
        self.save()
        processes.wait_until(lambda: _healthy(state.url + "/health"), 30, "NGINX to answer")

    # ---- scale: a new upstream list --------------------------------------------------------------

    def scale(self, count: int) -> None:
        """Starts or stops API processes so that `count` run, and reloads NGINX in between: new
        processes are added before the reload, removed ones stopped only after the NGINX
        workers that knew them have finished their requests."""
        state = self.load()
        if count < 1:
            raise SystemExit("--api must be at least 1")
        dead = [api for api in state.apis if not processes.alive(api.pid)]  # replaced, like any missing one
        state.apis = [api for api in state.apis if api not in dead]
        while len(state.apis) < count:
            self._start_api()
        leaving = state.apis[count:]
        state.apis = state.apis[:count]
        self.save()
        self.reload_nginx()
        for api in leaving:
            processes.stop(api.pid)

    def reload_nginx(self) -> None:
        state = self.state
        assert state is not None
        segment = self.segment()
        before = processes.children(state.nginx_pid)
        nginx.reload(self._plan(), segment.ns("lb") if segment else None)
        processes.wait_until(lambda: not (processes.children(state.nginx_pid) & before), 60,
                             "the NGINX workers of the previous configuration to finish")

    def database(self, which: str) -> Server:
        """The private "primary" or "replica" server (to stop and start it, as the fault tests do)."""
        state = self.state or self.load()
        raw = state.primary if which == "primary" else state.replica
        if raw is None:
            raise SystemExit(f"this cluster has no private {which}")
        return Server(Path(raw["folder"]), raw["host"], raw["port"], raw["netns"])

    # ---- status ---------------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        state = self.load()
        rows: list[dict[str, Any]] = []
        nginx_ok = processes.alive(state.nginx_pid) and _healthy(state.url + "/health")
        rows.append({"member": "nginx", "where": state.url, "pid": state.nginx_pid,
                     "health": "ok" if nginx_ok else "down", "detail": _nginx_status(state.purge_url)})
        for api in state.apis:
            ok = processes.alive(api.pid) and _healthy(f"http://{api.address}/health")
            rows.append({"member": api.name, "where": api.address + (f" ({api.netns})" if api.netns else ""),
                         "pid": api.pid, "health": "ok" if ok else "down", "detail": ""})
        primary, replica = asyncio.run(admin.database_status(state.database_url, state.replica_url, state.standby))
        rows.append({"member": "primary", "where": _where(state.database_url), "pid": _server_pid(state.primary),
                     "health": primary[0], "detail": primary[1]})
        if state.replica_url:
            rows.append({"member": "replica", "where": _where(state.replica_url), "pid": _server_pid(state.replica),
                         "health": replica[0], "detail": replica[1]})
            rows.append({"member": "syncguard", "where": "", "pid": state.guard_pid,
                         "health": "ok" if processes.alive(state.guard_pid) else "down", "detail": ""})
        return rows

    # ---- down -----------------------------------------------------------------------------------

    def down(self) -> None:
        state = self.state or self.load()
        with _timed("nginx"):
            processes.stop(state.nginx_pid, group=False)  # SIGTERM: NGINX's fast shutdown
        nginx.unmount_cache(self._plan())
        for api in state.apis:
            with _timed(api.name):
                processes.stop(api.pid)
        with _timed("syncguard"):
            processes.stop(state.guard_pid)
        for name, server in (("replica", state.replica), ("primary", state.primary)):
            if server is not None:
                s = Server(Path(server["folder"]), server["host"], server["port"], server["netns"])
                try:
                    with _timed(name):
                        s.stop()
                except (RuntimeError, OSError) as exc:
                    print(f"atelier cluster: stopping {s.folder}: {exc}", file=sys.stderr)
        if state.external_primary_changed and state.database_url:
            try:
                asyncio.run(admin.reset_primary(state.database_url))
            except (OSError, asyncpg.PostgresError) as exc:
                print(f"atelier cluster: could not reset the primary's settings: {exc}", file=sys.stderr)
        segment = Segment(**state.segment) if state.segment else None
        if segment is not None:
            present = _namespaces()
            for host in ("lb", "api1", "api2", "pg1", "pg2"):  # anything left running on our hosts
                if segment.ns(host) in present:
                    for pid in segment.pids(host):
                        processes.stop(pid, grace=5, group=False)
            segment.remove()
        # logs and data folders stay in the folder; the cache's memory is freed above
        self.state_path.unlink(missing_ok=True)
        self.state = None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def _timed(member: str, slow: float = 2.0) -> Iterator[None]:
    """Says which member took long to stop (a PostgreSQL checkpoint, an API draining)."""
    started = time.monotonic()
    yield
    if time.monotonic() - started > slow:
        print(f"atelier cluster: stopping {member} took {time.monotonic() - started:.1f} s", file=sys.stderr)


def _namespaces() -> set[str]:
    from .netns import existing_namespaces

    return existing_namespaces()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}{parts.path}"


def _server_pid(server: dict[str, Any] | None) -> int:
    if server is None:
        return 0
    try:
        return int((Path(server["folder"]) / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return 0


def _nginx_status(purge_url: str) -> str:
    try:
        text = httpx.get(purge_url + "/nginx_status", timeout=2).text
    except httpx.HTTPError:
        return ""
    return " ".join(text.split()[:3])  # "Active connections: N"
