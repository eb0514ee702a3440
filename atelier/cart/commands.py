"""`atelier cart tokens` and `atelier cart rotate-key`: the command line of cart sessions."""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
from pathlib import Path
from typing import Any

import asyncpg

from ..core.config import Settings
from . import sessions

# The sessions of cart.csv: integer ids, kept as their decimal text (load.py).
LEGACY_SESSIONS = "SELECT DISTINCT user_session FROM cart.cart WHERE user_session ~ '^[0-9]+$' ORDER BY 1"


def add_parser(sub: Any) -> None:
    from ..cli import HelpFormatter

    cart = sub.add_parser(
        "cart", help="cart sessions: tokens for the legacy carts, key rotation", formatter_class=HelpFormatter,
        description="Carts are reached only through session tokens the server signed. `tokens` issues one for "
                    "every legacy session of cart.csv (the migration path); `rotate-key` adds a signing key.")
    commands = cart.add_subparsers(dest="cart_command", required=True, metavar="COMMAND",
                                   help="tokens or rotate-key")
    tokens = commands.add_parser(
        "tokens", help="issue one session token per legacy cart session (the migration path of cart.csv)",
        description="Writes `user_session,token` for every legacy session of cart.csv: set the token as the "
                    f"`{sessions.COOKIE}` cookie of that shopper to give them their cart. The file holds "
                    "credentials: it is written readable by its owner only.")
    tokens.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    tokens.add_argument("--database-url", dest="database_url", help="PostgreSQL URL (default: $DATABASE_URL)")
    tokens.set_defaults(run=run_tokens)
    rotate = commands.add_parser(
        "rotate-key", help="add a new session signing key; tokens of the oldest keys stop working",
        description="The new key signs from now on (workers pick it up within 5 minutes); tokens of the other "
                    "kept keys still work and are signed again with the new key when used. Keys beyond --keep "
                    "are deleted: their tokens get fresh (empty) sessions.")
    rotate.add_argument("--keep", type=int, default=2, help="keys to keep, the new one included (default 2)")
    rotate.add_argument("--database-url", dest="database_url", help="PostgreSQL URL (default: $DATABASE_URL)")
    rotate.set_defaults(run=run_rotate)


def _database(settings: Settings) -> str:
    if not settings.database_url:
        raise SystemExit("no database: set DATABASE_URL or pass --database-url")
    return settings.database_url


def run_tokens(args: argparse.Namespace, settings: Settings) -> None:
    count = asyncio.run(write_tokens(_database(settings), args.out))
    print(f"{count:,} legacy sessions: tokens in {args.out}")


async def write_tokens(database_url: str, out: Path) -> int:
    """Writes `user_session,token` for every legacy session; returns how many."""
    conn = await asyncpg.connect(database_url)
    try:
        ring = await sessions.load_keys(conn)
        legacy = [row[0] for row in await conn.fetch(LEGACY_SESSIONS)]
    finally:
        await conn.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed
    with open(fd, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("user_session", "token"))
        writer.writerows((session, ring.sign(session)) for session in legacy)
    return len(legacy)


def run_rotate(args: argparse.Namespace, settings: Settings) -> None:
    async def go() -> tuple[int, list[int]]:
        conn = await asyncpg.connect(_database(settings))
        try:
            return await sessions.rotate(conn, args.keep)
        finally:
            await conn.close()

    new_id, deleted = asyncio.run(go())
    print(f"key {new_id} signs new sessions" + (f"; deleted keys {deleted}" if deleted else ""))
