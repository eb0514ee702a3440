"""What a cluster asks of and sets on its databases: one asyncpg connection per question, so
`up`, `status` and `down` hold none between commands."""

from __future__ import annotations

import asyncpg


async def create_database(url: str, name: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def require_replication_rights(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        superuser = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()
    if not superuser:
        raise SystemExit(
            "--replica needs a superuser in DATABASE_URL: the replica is copied with pg_basebackup (the REPLICATION "
            "right and a `host replication` line in pg_hba.conf for this machine), and commits are made to wait for "
            "it (ALTER SYSTEM synchronous_commit and synchronous_standby_names, reset by `down`)")


async def set_primary(url: str, settings: dict[str, str]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for name, value in settings.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def reset_primary(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute("ALTER SYSTEM RESET synchronous_commit")
        await conn.execute("ALTER SYSTEM RESET synchronous_standby_names")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def standby_synchronous(url: str, name: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=2)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        return bool(await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND sync_state = 'sync')",
            name))
    finally:
        await conn.close()


async def database_status(primary_url: str, replica_url: str, standby: str) -> tuple[tuple[str, str], tuple[str, str]]:
    primary = ("down", "")
    replica = ("", "")
    try:
        conn = await asyncpg.connect(primary_url, timeout=2)
        try:
            row = await conn.fetchrow(
                "SELECT state, sync_state, replay_lag,"
                " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS behind"
                " FROM pg_stat_replication WHERE application_name = $1", standby)
            sync = await conn.fetchval("SELECT current_setting('synchronous_standby_names')")
            primary = ("ok", f"synchronous_standby_names={sync!r}" if replica_url else "")
            if row is not None:
                lag = row["replay_lag"].total_seconds() if row["replay_lag"] is not None else 0.0
                replica = ("ok", f"{row['state']}, {row['sync_state']}, {row['behind']} bytes behind, "
                                 f"replay lag {lag * 1000:.1f} ms")
        finally:
            await conn.close()
    except (OSError, asyncpg.PostgresError, TimeoutError):
        pass
    if replica_url and not replica[0]:
        try:
            conn = await asyncpg.connect(replica_url, timeout=2)
            await conn.close()
            replica = ("ok", "not streaming")
        except (OSError, asyncpg.PostgresError, TimeoutError):
            replica = ("down", "")
    return primary, replica
