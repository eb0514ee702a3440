"""Keeps synchronous replication from blocking writes while the replica is away.

With `synchronous_commit = remote_apply` a commit waits until the synchronous standby has
applied it; if the standby is down it would wait forever. This process polls the primary every
`interval` and edits one setting:
- the standby is not streaming: `synchronous_standby_names = ''` (commits stop waiting at
  once, waiting ones are released; the API's readers see `sync_state` drop and read from the
  primary);
- it streams again and is within `catch_up_bytes` of the primary: its name is set back, and
  commits wait for it again (readers return to it once it has replayed their last sample).
Run by `atelier cluster up --replica`; needs a superuser connection to the primary.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import asyncpg

log = logging.getLogger("atelier.syncguard")

STANDBY = """
SELECT coalesce(bool_or(state = 'streaming' AND pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) <= $2), false)
FROM pg_stat_replication WHERE application_name = $1
"""


async def set_standby(conn: asyncpg.Connection, names: str) -> None:
    await conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{names}'")
    await conn.execute("SELECT pg_reload_conf()")


async def guard(dsn: str, name: str, interval: float = 0.1, catch_up_bytes: int = 1 << 20) -> None:
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"not a plain standby name: {name!r}")
    conn: asyncpg.Connection | None = None
    while True:
        try:
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(dsn, timeout=2)
            ready = await conn.fetchval(STANDBY, name, catch_up_bytes, timeout=2)
            current = await conn.fetchval("SELECT current_setting('synchronous_standby_names')", timeout=2)
            if ready and current != name:
                log.warning("standby %s is streaming: commits wait for it again", name)
                await set_standby(conn, name)
            elif not ready and current == name:
                log.warning("standby %s is not streaming: commits no longer wait for it", name)
                await set_standby(conn, "")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.info("primary unreachable (%s); trying again", type(exc).__name__)
            _drop(conn)
            conn = None
        except Exception:  # the guard must outlive anything: log it and go on
            log.exception("unexpected error; trying again")
            _drop(conn)
            conn = None
        await asyncio.sleep(interval)


def _drop(conn: asyncpg.Connection | None) -> None:
    if conn is not None and not conn.is_closed():
        conn.terminate()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m atelier.cluster.syncguard")
    parser.add_argument("dsn", help="superuser URL of the primary")
    parser.add_argument("name", help="the standby's application_name")
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(message)s")
    try:
        asyncio.run(guard(args.dsn, args.name, args.interval))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
