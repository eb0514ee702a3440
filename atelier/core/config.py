"""Settings from environment variables; command-line flags override them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, whatever the case it was written in."""
    raw = os.environ.get(name) or default
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise ValueError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")


@dataclass
class Settings:
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL") or None)
    # A streaming replica for reads (atelier/core/replica.py) and the NGINX caches to purge before
    # a write is acknowledged (atelier/cluster/purger.py); `atelier cluster up` sets them.
    replica_url: str | None = field(default_factory=lambda: os.environ.get("ATELIER_REPLICA_URL") or None)
    replica_name: str = field(default_factory=lambda: os.environ.get("ATELIER_REPLICA_NAME", "atelier_replica"))
    replica_max_lag: float = field(default_factory=lambda: _env_float("ATELIER_REPLICA_MAX_LAG", 1.0))
    replica_sync: bool = field(default_factory=lambda: os.environ.get("ATELIER_REPLICA_SYNC", "1") != "0")
    cache_purge: list[str] = field(default_factory=lambda: _env_list("ATELIER_CACHE_PURGE"))
    cache_origins: list[str] = field(default_factory=lambda: _env_list("ATELIER_CACHE_ORIGINS"))
    purge_timeout: float = field(default_factory=lambda: _env_float("ATELIER_PURGE_TIMEOUT", 5.0))
    cache_fill_bound_ms: int = field(default_factory=lambda: _env_int("ATELIER_CACHE_FILL_BOUND_MS", 50))
    host: str = field(default_factory=lambda: os.environ.get("ATELIER_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env_int("ATELIER_PORT", 3000))
    workers: int = field(default_factory=lambda: _env_int("ATELIER_WORKERS", 1))
    pool_size: int = field(default_factory=lambda: _env_int("ATELIER_POOL_SIZE", 8))
    write_pool_size: int = field(default_factory=lambda: _env_int("ATELIER_WRITE_POOL_SIZE", 4))
    campus: str = field(default_factory=lambda: os.environ.get("ATELIER_CAMPUS", "hr-rfp"))
    max_count: int = field(default_factory=lambda: _env_int("ATELIER_MAX_COUNT", 1000))
    # The HTTP edge (docs/edge.md): allowed browser origins ("*" or a comma-separated list) and how
    # long a browser may reuse a preflight's answer (Chromium caps it at 7200 s).
    cors_origins: str = field(default_factory=lambda: os.environ.get("ATELIER_CORS_ORIGINS", "*"))
    cors_max_age: int = field(default_factory=lambda: _env_int("ATELIER_CORS_MAX_AGE", 7200))
    # Seconds a connection may take to send a request's headers, and may stay idle between requests.
    header_timeout: int = field(default_factory=lambda: _env_int("ATELIER_HEADER_TIMEOUT", 5))
    # Open connections per worker; 0: from the open-file limit (atelier.core.limits).
    max_connections: int = field(default_factory=lambda: _env_int("ATELIER_MAX_CONNECTIONS", 0))
    backlog: int = field(default_factory=lambda: _env_int("ATELIER_BACKLOG", 2048))
    home: Path = field(default_factory=lambda: Path(os.environ.get("ATELIER_HOME", ".atelier")))
    prewarm: str = field(default_factory=lambda: _env_choice("ATELIER_PREWARM", "auto", ("auto", "always", "off")))
    # the cart's session cookie (cart/sessions.py); SameSite=None (a front end on another site) implies Secure
    cookie_samesite: str = field(default_factory=lambda: _env_choice("ATELIER_COOKIE_SAMESITE", "Lax",
                                                                     ("Lax", "Strict", "None")))
    cookie_secure: bool = field(default_factory=lambda: _env_int("ATELIER_COOKIE_SECURE", 0) != 0)
    session_max_age: int = field(default_factory=lambda: _env_int("ATELIER_SESSION_MAX_AGE", 30 * 86400))

    @classmethod
    def from_env(cls) -> Settings:
        return cls()


# Environment variables the server processes read; `serve` exports its flags through them so that
# every Granian worker process sees the same configuration.
EXPORTED = {
    "database_url": "DATABASE_URL",
    "campus": "ATELIER_CAMPUS",
    "pool_size": "ATELIER_POOL_SIZE",
    "write_pool_size": "ATELIER_WRITE_POOL_SIZE",
    "max_count": "ATELIER_MAX_COUNT",
    "cors_origins": "ATELIER_CORS_ORIGINS",
    "cors_max_age": "ATELIER_CORS_MAX_AGE",
}


def export(settings: Settings) -> None:
    for attr, name in EXPORTED.items():
        value = getattr(settings, attr)
        if value is not None:
            os.environ[name] = str(value)


# Read by the cluster's settings above (their defaults are computed when Settings is made).
def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _env_list(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
