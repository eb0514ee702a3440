"""Cart sessions (cart/sessions.py, issue 11 item 3): no cookie value the server did not issue reaches
any cart, forged values get a fresh session, legacy carts reach their owners through issued tokens,
keys rotate without losing active carts, and anonymous reads write nothing."""

from __future__ import annotations

import asyncio
import csv
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from conftest import Server, atelier, fetch, loaded_database, sample_copy
from test_cart import CART

from atelier.cart import sessions
from atelier.core.config import Settings

LEGACY = {"1234": [{"sku_id": 1, "count": 1}, {"sku_id": 3, "count": 2}, {"sku_id": 7, "count": 1}],
          "5678": [{"sku_id": 1, "count": 1}]}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = sample_copy(tmp_path_factory.mktemp("sessions") / "data", cart=CART)
    with loaded_database(data, "products", "cart") as url:
        yield url


@pytest.fixture(scope="module")
def server(db: str) -> Iterator[Server]:
    srv = Server(db, workers=2)  # both workers must accept what either issued
    try:
        yield srv
    finally:
        srv.stop()


def legacy_tokens(db: str, out: Path) -> dict[str, str]:
    atelier("cart", "tokens", "--out", str(out), env={"DATABASE_URL": db})
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["user_session", "token"]
    return dict((session, token) for session, token in rows[1:])


def token_of(response: httpx.Response) -> str:
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("atelier_session=")
    return cookie.split(";")[0].partition("=")[2]


def test_no_guessed_or_chosen_value_reaches_a_cart(server: Server, db: str, tmp_path: Path) -> None:
    real = legacy_tokens(db, tmp_path / "tokens.csv")["1234"]
    session, key_id, tag = real.split(".")
    forged = ["1234", "5678", "176", "1", "0", "-1", "abc", "x" * 64, "../../etc", real + "x",
              f"{session}.{key_id}.{'A' * 22}", f"{session}.{int(key_id) + 1}.{tag}", f"5678.{key_id}.{tag}",
              f"{'A' * 22}.{key_id}.{'A' * 22}"]
    count = "SELECT count(*), count(*) FILTER (WHERE user_session = ANY($1)) FROM cart.cart"
    rows, rows_of_forged = fetch(db, count, forged)[0]
    with httpx.Client(base_url=server.url, timeout=10) as c:
        for value in forged:
            r = c.get("/cart", headers={"cookie": f"atelier_session={value}"})
            assert r.status_code == 200 and r.json() == [], value
            assert token_of(r) != value
            r = c.post("/cart", json={"sku_id": 2}, headers={"cookie": f"atelier_session={value}"})
            assert r.status_code == 201, value
            fresh = token_of(r)  # the item went into a fresh session, whose token the client gets
            assert httpx.get(server.url + "/cart", cookies={"atelier_session": fresh}).json() == \
                [{"sku_id": 2, "count": 1}]
        for guess in range(1, 301):  # trying integers finds nothing (the sample's sessions included)
            r = c.get("/cart", headers={"cookie": f"atelier_session={guess}"})
            assert r.json() == [], guess
    assert tuple(fetch(db, count, forged)[0]) == (rows + len(forged), rows_of_forged)  # no row under a forged value
    with httpx.Client(base_url=server.url, cookies={"atelier_session": real}) as owner:
        assert owner.get("/cart").json() == LEGACY["1234"]  # untouched by all of the above


def test_legacy_carts_reach_their_owners_through_issued_tokens(server: Server, db: str, tmp_path: Path) -> None:
    out = tmp_path / "tokens.csv"
    tokens = legacy_tokens(db, out)
    assert set(tokens) == {"1234", "5678"}  # every legacy session, once
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # credentials: the owner's only
    for session, cart in LEGACY.items():
        with httpx.Client(base_url=server.url, cookies={"atelier_session": tokens[session]}) as owner:
            r = owner.get("/cart")
            assert r.json() == cart and "set-cookie" not in r.headers
    with httpx.Client(base_url=server.url, cookies={"atelier_session": tokens["5678"]}) as owner:
        assert owner.post("/cart", json={"sku_id": 4}).status_code == 201  # the owner goes on with their cart
        assert owner.get("/cart").json() == [{"sku_id": 1, "count": 1}, {"sku_id": 4, "count": 1}]
    assert legacy_tokens(db, tmp_path / "again.csv") == tokens  # the same key signs the same tokens


def test_anonymous_reads_write_nothing(server: Server, db: str) -> None:
    before = fetch(db, "SELECT (SELECT count(*) FROM cart.cart), (SELECT count(*) FROM public.atelier_session_key)")
    issued = set()
    for _ in range(20):
        r = httpx.get(server.url + "/cart")
        assert r.status_code == 200 and r.json() == []
        issued.add(token_of(r))
    assert len(issued) == 20
    after = fetch(db, "SELECT (SELECT count(*) FROM cart.cart), (SELECT count(*) FROM public.atelier_session_key)")
    assert tuple(after[0]) == tuple(before[0])


def test_rotation_keeps_active_carts_and_retires_old_keys(server: Server, db: str, tmp_path: Path) -> None:
    old = legacy_tokens(db, tmp_path / "tokens.csv")["1234"]
    result = atelier("cart", "rotate-key", env={"DATABASE_URL": db})
    assert "signs new sessions" in result.stdout
    new = legacy_tokens(db, tmp_path / "new.csv")["1234"]  # signed with the new key, unknown to the workers yet
    assert new != old
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.get("/cart", headers={"cookie": f"atelier_session={new}"})
        assert r.json() == LEGACY["1234"] and "set-cookie" not in r.headers
        r = c.get("/cart", headers={"cookie": f"atelier_session={old}"})  # an older key still works ...
        assert r.json() == LEGACY["1234"]
        assert token_of(r) == new  # ... and its holder gets the token of the newest key
    atelier("cart", "rotate-key", "--keep", "1", env={"DATABASE_URL": db})

    async def ring() -> sessions.KeyRing:
        conn = await asyncpg.connect(db)
        try:
            return await sessions.load_keys(conn)
        finally:
            await conn.close()

    keys = asyncio.run(ring())
    assert len(keys.keys) == 1 and keys.verify(old) is None and keys.verify(new) is None  # retired: revoked


# --- in process --------------------------------------------------------------------------------------

def test_tokens_verify_only_with_their_key_and_tag() -> None:
    ring = sessions.KeyRing({1: b"k" * 32, 2: b"l" * 32})
    session = sessions.new_session_id()
    token = ring.sign(session)
    assert token.split(".")[1] == "2" and ring.verify(token) == (session, 2)
    assert ring.verify(f"{session}.1.{ring.tag(1, session)}") == (session, 1)
    assert sessions.KeyRing({2: b"m" * 32}).verify(token) is None  # same key id, another secret
    other = sessions.new_session_id()
    for bad in (session, f"{other}.2.{token.split('.')[2]}", token[:-1] + ("A" if token[-1] != "A" else "B"),
                f"{session}.3.{token.split('.')[2]}", "176", "", "a.b.c", token + ".2"):
        assert ring.verify(bad) is None, bad
    assert ring.names_unknown_key(f"{session}.3.{'A' * 22}") and not ring.names_unknown_key(token)
    assert not any(sessions.new_session_id().isdigit() for _ in range(1000))


def test_cookie_attributes_follow_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sessions.set_cookie(Settings(), "t") == (
        "set-cookie", "atelier_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000")
    monkeypatch.setenv("ATELIER_COOKIE_SAMESITE", "none")  # a front end on another site, over HTTPS
    monkeypatch.setenv("ATELIER_SESSION_MAX_AGE", "0")
    assert sessions.set_cookie(Settings(), "t")[1] == "atelier_session=t; Path=/; HttpOnly; SameSite=None; Secure"
    monkeypatch.setenv("ATELIER_COOKIE_SAMESITE", "Strict")
    monkeypatch.setenv("ATELIER_COOKIE_SECURE", "1")
    assert sessions.set_cookie(Settings(), "t")[1] == "atelier_session=t; Path=/; HttpOnly; SameSite=Strict; Secure"
    monkeypatch.setenv("ATELIER_COOKIE_SAMESITE", "sometimes")
    with pytest.raises(ValueError, match="ATELIER_COOKIE_SAMESITE"):
        Settings()
