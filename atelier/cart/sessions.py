"""Cart sessions: a cart is reachable only through a token this server issued.

A token is `<session>.<key id>.<tag>`: the session id (what `cart.cart.user_session` holds), the id
of the key that signed it and an HMAC-SHA256 tag of the session id, truncated to 128 bits. A
cookie value that does not verify (a guessed legacy integer such as `176`, a value of the
client's choosing, a tampered tag) is treated as no cookie at all: the request gets a fresh
session, so a client can never pick its session (no fixation) nor reach another's cart.

Why signed tokens rather than a table of issued tokens: checking a tag is a few microseconds and
no database round trip, and a visitor without a cookie gets a session (and an empty cart) without
any database write, so anonymous reads never write. The cost: one token cannot be revoked on its
own (retiring its key revokes every token it signed).

The keys live in the database (`public.atelier_session_key`), created on first use: every process
and host that serves the database shares them with nothing to configure, and a key protects
nothing more than the carts that the same database holds. `atelier cart rotate-key` adds a new key
(the newest signs); older keys still verify until retired, and a token signed by an older key is
signed again with the newest on use, so active shoppers keep their carts through a rotation.
Workers read the keys at first use and again after `REFRESH` seconds, or at once when a token
names a key they do not know.

Legacy carts (`cart.csv`'s integer sessions) stay as loaded; their owners reach them through
tokens issued for them: `atelier cart tokens --out FILE` (one `user_session,token` line each).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field

import asyncpg

from ..core.config import Settings
from ..core.http import Request

COOKIE = "atelier_session"
REFRESH = 300.0  # seconds a worker trusts its copy of the keys
DOMAIN = b"atelier cart session\x00"  # what the tags sign, beside the session id: tags for nothing else
TAG_BYTES = 16
KEY_LOCK = 7412003

_TOKEN = re.compile(r"([A-Za-z0-9_-]{1,43})\.([0-9]{1,9})\.([A-Za-z0-9_-]{22})")

KEY_TABLE = """
CREATE TABLE IF NOT EXISTS public.atelier_session_key (
    id serial PRIMARY KEY, secret bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())
"""
KEYS = "SELECT id, secret FROM public.atelier_session_key ORDER BY id"
NEW_KEY = "INSERT INTO public.atelier_session_key (secret) VALUES ($1)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class KeyRing:
    keys: dict[int, bytes]  # key id -> secret; the highest id signs
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def signing_id(self) -> int:
        return max(self.keys)

    def tag(self, key_id: int, session: str) -> str:
        digest = hmac.new(self.keys[key_id], DOMAIN + session.encode(), hashlib.sha256).digest()
        return _b64(digest[:TAG_BYTES])

    def sign(self, session: str) -> str:
        key_id = self.signing_id
        return f"{session}.{key_id}.{self.tag(key_id, session)}"

    def verify(self, token: str) -> tuple[str, int] | None:
        """(session id, key id) when `token` was issued with one of the keys; None otherwise."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        session, key_id = match[1], int(match[2])
        if key_id not in self.keys or not hmac.compare_digest(self.tag(key_id, session), match[3]):
            return None
        return session, key_id

    def names_unknown_key(self, token: str) -> bool:
        match = _TOKEN.fullmatch(token)
        return match is not None and int(match[2]) not in self.keys


def new_session_id() -> str:
    """128 random bits. Never all digits, so never a legacy integer session."""
    return _b64(secrets.token_bytes(16))


async def load_keys(conn: asyncpg.Connection) -> KeyRing:
    """The keys, creating the table and a first key when there are none."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", KEY_LOCK)  # one creator at a time
        await conn.execute(KEY_TABLE)
        rows = await conn.fetch(KEYS)
        if not rows:
            await conn.execute(NEW_KEY, secrets.token_bytes(32))
            rows = await conn.fetch(KEYS)
    return KeyRing({row[0]: bytes(row[1]) for row in rows})


async def rotate(conn: asyncpg.Connection, keep: int = 2) -> tuple[int, list[int]]:
    """Adds a signing key; keeps the `keep` newest keys (the new one included) and deletes the
    others, which revokes every token they signed. Returns (new key id, deleted key ids)."""
    if keep < 1:
        raise ValueError("keep at least the new key")
    await load_keys(conn)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", KEY_LOCK)
        new_id = await conn.fetchval(NEW_KEY + " RETURNING id", secrets.token_bytes(32))
        deleted = await conn.fetch("DELETE FROM public.atelier_session_key WHERE id NOT IN "
                                   "(SELECT id FROM public.atelier_session_key ORDER BY id DESC LIMIT $1) "
                                   "RETURNING id", keep)
    return new_id, sorted(row[0] for row in deleted)


async def key_ring(request: Request, token: str | None = None) -> KeyRing:
    """This worker's keys; read again when stale or when `token` names a key not yet known (at
    most once a second: made-up key ids cost no more than that)."""
    ring: KeyRing | None = request.app.state.get("cart.keys")
    now = time.monotonic()
    if ring is None or now - ring.loaded_at > REFRESH or (
            token is not None and ring.names_unknown_key(token) and now - ring.loaded_at > 1.0):
        async with request.app.writes().connection() as conn:
            ring = request.app.state["cart.keys"] = await load_keys(conn)
    return ring


@dataclass
class Session:
    id: str  # the cart's key in cart.cart.user_session
    is_new: bool  # issued by this request: its cart is empty, nothing to read
    headers: list[tuple[str, str]]  # Set-Cookie when the client must store a (new or re-signed) token


async def resolve(request: Request) -> Session:
    """The request's session: the one its cookie names when the cookie verifies, else a new one."""
    token = request.cookie(COOKIE)
    ring = await key_ring(request, token)
    verified = ring.verify(token) if token else None
    if verified is None:
        session = new_session_id()
        return Session(session, True, [set_cookie(request.app.settings, ring.sign(session))])
    session, key_id = verified
    if key_id != ring.signing_id:  # signed by an older key: move it to the newest
        return Session(session, False, [set_cookie(request.app.settings, ring.sign(session))])
    return Session(session, False, [])


def set_cookie(settings: Settings, token: str) -> tuple[str, str]:
    """HttpOnly (scripts never need it), Path=/, SameSite and Secure from the settings (SameSite=None
    is only accepted by browsers with Secure), Max-Age unless 0 (then it lasts the browser session)."""
    attributes = [f"{COOKIE}={token}", "Path=/", "HttpOnly", f"SameSite={settings.cookie_samesite}"]
    if settings.cookie_secure or settings.cookie_samesite == "None":
        attributes.append("Secure")
    if settings.session_max_age > 0:
        attributes.append(f"Max-Age={settings.session_max_age}")
    return ("set-cookie", "; ".join(attributes))
