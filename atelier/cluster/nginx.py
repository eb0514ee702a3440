"""NGINX's configuration for a cluster, and the commands that start, reload and stop it.

Every path NGINX writes (pid, logs, temp files, cache) is under the cluster's folder, so two
clusters run side by side. The configuration is rendered from `NginxPlan`, never edited.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..core.config import Settings
from . import cachekeys

PURGE_MODULE = Path("/usr/lib/nginx/modules/ngx_http_cache_purge_module.so")
# Both sockets of a proxied request count against a worker's connections and open files.
FILES_PER_REQUEST = 2
SPARE_FILES = 64  # log files, cache files being written, the listening sockets


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        raise SystemExit("nginx is not installed: run `bash bench/install-tools.sh` as root "
                         "(or apt-get install nginx-light libnginx-mod-http-cache-purge)")
    return found


def open_files_limit() -> int:
    """The open files each NGINX worker may have: this machine's hard limit for a process."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 1_048_576 if hard == resource.RLIM_INFINITY else min(hard, 1_048_576)


@dataclass
class NginxPlan:
    folder: Path  # the cluster's nginx/ folder
    listen: str  # host:port for clients
    upstreams: list[str]  # host:port of each API process
    purge_listen: str  # host:port of the internal server (purge, status); never the clients' port
    purge_allow: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    cache: bool = False
    cache_origins: list[str] = field(default_factory=list)
    cache_keys_mb: int = 32  # 1 MB of keys zone holds about 8,000 keys (NGINX docs)
    cache_max_size: str = "1g"
    cache_log: bool = False  # one line per answer with its cache status, in cache.log (for the hit rate)
    fill_bound_ms: int = 50  # an answer slower than this is not stored (see cachekeys.nginx_maps)
    max_body: str = "1m"  # the API answers 413 beyond 1 MiB too; NGINX stops it before
    client_timeout_s: int = 10
    # Idle connections to the API processes are closed by NGINX before the API closes them (its
    # ATELIER_HEADER_TIMEOUT, 5 s by default, cuts a connection idle that long): a request sent on
    # a connection the API is closing would fail, and a POST is never retried.
    upstream_idle_s: int = field(default_factory=lambda: max(1, Settings.from_env().header_timeout - 1))

    @property
    def conf_path(self) -> Path:
        return self.folder / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.folder / "nginx.pid"

    @property
    def cache_dir(self) -> Path:
        return self.folder / "cache"

    def render(self) -> str:
        files = open_files_limit()
        connections = max(512, (files - SPARE_FILES) // FILES_PER_REQUEST)
        f = self.folder
        servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=2s;" for u in self.upstreams)
        allow = "\n".join(f"            allow {a};" for a in self.purge_allow)
        load_module = f"load_module {PURGE_MODULE};\n" if self.cache else ""
        cache_http = ""
        cache_location = ""
        purge_location = ""
        if self.cache:
            cache_http = (
                f"    proxy_cache_path {self.cache_dir} levels=1:2 keys_zone=atelier:{self.cache_keys_mb}m\n"
                f"                     max_size={self.cache_max_size} inactive=10m use_temp_path=off;\n"
                + "\n".join("    " + line if line else "" for line in
                            cachekeys.nginx_maps(self.cache_origins, self.fill_bound_ms).splitlines()) + "\n")
            cache_location = """
            proxy_cache atelier;
            proxy_cache_key $atelier_cache_key;
            proxy_cache_bypass $atelier_cache_skip;
            proxy_no_cache $atelier_cache_skip $atelier_slow_fill;
            proxy_cache_valid 200 10m;
            proxy_cache_lock on;            # concurrent misses of one key make one request
            proxy_cache_lock_timeout 2s;
            add_header X-Cache-Status $upstream_cache_status always;"""
            if self.cache_log:
                cache_http += "    log_format atelier_cache $upstream_cache_status;\n"
                cache_location += f"\n            access_log {f}/cache.log atelier_cache buffer=256k flush=1s;"
            purge_location = f"""
        location ~ ^/purge/(?<purge_key>[^/]+)$ {{
{allow}
            deny all;
            proxy_cache_purge atelier $purge_key;
        }}"""
        return f"""\
# Rendered by `atelier cluster` ({f}); edits are overwritten on the next up or reload.
{load_module}worker_processes auto;
worker_rlimit_nofile {files};
pid {self.pid_path};
error_log {f}/error.log warn;
daemon on;

events {{
    worker_connections {connections};
    multi_accept on;
}}

http {{
    access_log off;
    client_body_temp_path {f}/tmp/body;
    proxy_temp_path {f}/tmp/proxy;
    fastcgi_temp_path {f}/tmp/fastcgi;
    uwsgi_temp_path {f}/tmp/uwsgi;
    scgi_temp_path {f}/tmp/scgi;
    server_tokens off;

    # Clients: bounded bodies and headers, and no slow client holds a connection forever.
    client_max_body_size {self.max_body};
    client_body_buffer_size 64k;
    large_client_header_buffers 4 8k;
    client_header_timeout {self.client_timeout_s}s;
    client_body_timeout {self.client_timeout_s}s;
    send_timeout {self.client_timeout_s}s;
    keepalive_timeout 65s;
    keepalive_requests 10000;
    reset_timedout_connection on;

    upstream atelier_api {{
        least_conn;
        # passive health checks: one failure takes a server out for 2 s, then it is tried again
{servers}
        keepalive 64;                       # idle connections kept to the API processes, per worker
        keepalive_requests 100000;
        keepalive_timeout {self.upstream_idle_s}s;   # below the API's header timeout
    }}
{cache_http}
    server {{
        listen {self.listen} backlog=4096;

        location / {{
            # PUT and POST are never sent twice: not even helpful votes are idempotent here.
            error_page 418 = @write;
            if ($request_method !~ ^(GET|HEAD|OPTIONS)$) {{ return 418; }}
            proxy_pass http://atelier_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_next_upstream error timeout http_502 http_504;
            proxy_next_upstream_tries 3;
            proxy_next_upstream_timeout 10s;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;{cache_location}
        }}

        location @write {{
            proxy_pass http://atelier_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            # a refused connection is safe to retry (nothing was sent); once sent, never
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 15s;
        }}
    }}

    # Internal: purges from the API processes and the status of `atelier cluster status`.
    server {{
        listen {self.purge_listen};
        location = /nginx_status {{
{allow}
            deny all;
            stub_status;
        }}{purge_location}
    }}
}}
"""

    def write(self) -> None:
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.render())


def _nginx(plan: NginxPlan, *args: str, netns: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [nginx_binary(), "-c", str(plan.conf_path), "-p", str(plan.folder), *args]
    if netns is not None:
        command = ["ip", "netns", "exec", netns, *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def check(plan: NginxPlan, netns: str | None = None) -> None:
    result = _nginx(plan, "-t", "-q", netns=netns)  # it binds the listening addresses: where NGINX runs
    if result.returncode != 0:
        raise RuntimeError(f"nginx rejected {plan.conf_path}:\n{result.stderr}")


def start(plan: NginxPlan, netns: str | None = None) -> int:
    """Starts NGINX (it daemonizes); returns the master's pid. A cache left by an earlier run is
    dropped first: no write purged it while NGINX was not running."""
    unmount_cache(plan)
    shutil.rmtree(plan.cache_dir, ignore_errors=True)
    if plan.cache:
        _mount_cache(plan)
    plan.write()
    check(plan, netns)
    result = _nginx(plan, netns=netns)
    if result.returncode != 0:
        raise RuntimeError(f"nginx did not start:\n{result.stderr}")
    return int(plan.pid_path.read_text())


def reload(plan: NginxPlan, netns: str | None = None) -> None:
    """New configuration, no dropped request: new workers take new connections while the old
    ones finish the requests they hold (NGINX's graceful reload)."""
    plan.write()
    check(plan, netns)
    result = _nginx(plan, "-s", "reload", netns=netns)
    if result.returncode != 0:
        raise RuntimeError(f"nginx reload failed:\n{result.stderr}")


def _mount_cache(plan: NginxPlan) -> None:
    """As root, the cache lives in memory (tmpfs) at its place under the cluster's folder: NGINX
    writes cache files from its event loop, and a disk busy with other writes stalls the whole
    worker (docs/cluster.md, Figures). ATELIER_CACHE_ON_DISK=1 keeps it on disk, to compare."""
    plan.cache_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or os.environ.get("ATELIER_CACHE_ON_DISK") == "1":
        return
    size = plan.cache_max_size.lower()
    megabytes = int(size[:-1]) * (1024 if size.endswith("g") else 1) if size[-1] in "gm" else int(size) >> 20
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes + 64}m,mode=0755", "atelier-cache",
                    str(plan.cache_dir)], check=True, capture_output=True, timeout=30)


def unmount_cache(plan: NginxPlan) -> None:
    target = str(plan.cache_dir.resolve())
    with open("/proc/self/mounts") as mounts:
        mounted = any(line.split()[1] == target for line in mounts)
    if mounted:
        subprocess.run(["umount", target], capture_output=True, timeout=30)
