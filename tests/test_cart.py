"""The cart: legacy cart.csv rows as carts, session cookies, isolation, and the loader."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SAMPLE, Server, atelier, fetch, loaded_database, sample_copy
from test_products_load import rejects, summary_counts

INVALID_SKU = "Error: invalid sku_id provided"

# Legacy rows: `product_id` holds a sku id (the sample has skus 1..400-odd, not 999999).
CART = (
    "id,user_session,product_id,active\n"
    "1,1234,3,1\n"
    "2,1234,1,1\n"
    "3,1234,3,1\n"
    "5,1234,2,0\n"          # inactive: not in the cart; ids swapped with 4
    "4,5678,1,1\n"
    "6, 1234 , 7 ,1\n"      # stray whitespace: loaded
    "7,1234,3x,1\n"         # junk sku: rejected
    "8,1234,4,2\n"          # boolean outside 0/1: rejected
    "9,1234,999999,1\n"     # no such sku: rejected
    "10,abc,4,1\n"          # junk session: rejected
)


@pytest.fixture(scope="module")
def cart_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = sample_copy(tmp_path_factory.mktemp("cart") / "data", cart=CART)
    with loaded_database(data, "products", "cart") as url:
        yield url


@pytest.fixture(scope="module")
def cart_url(cart_db: str) -> Iterator[str]:
    server = Server(cart_db, workers=2)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def legacy_tokens(cart_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`atelier cart tokens`: the token of each legacy session, by session."""
    out = tmp_path_factory.mktemp("tokens") / "tokens.csv"
    atelier("cart", "tokens", "--out", str(out), env={"DATABASE_URL": cart_db})
    rows = list(csv.reader(out.read_text().splitlines()))
    assert rows[0] == ["user_session", "token"]
    return dict((session, token) for session, token in rows[1:])


def client(url: str, session: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10, cookies={"atelier_session": session} if session else None)


def test_legacy_session_sees_its_active_rows_grouped_by_sku(cart_url: str, legacy_tokens: dict[str, str]) -> None:
    with client(cart_url, legacy_tokens["1234"]) as c:  # a legacy cart is reached through a token issued for it
        r = c.get("/cart")
        assert r.status_code == 200 and "set-cookie" not in r.headers
        assert r.json() == [{"sku_id": 1, "count": 1}, {"sku_id": 3, "count": 2}, {"sku_id": 7, "count": 1}]
    with client(cart_url, legacy_tokens["5678"]) as c:
        assert c.get("/cart").json() == [{"sku_id": 1, "count": 1}]


def test_first_use_sets_an_unguessable_session_cookie(cart_url: str) -> None:
    with client(cart_url) as c:
        r = c.get("/cart")
        assert r.status_code == 200 and r.json() == []
        cookie = r.headers["set-cookie"]
        name, _, rest = cookie.partition("=")
        token = rest.split(";")[0]
        assert name == "atelier_session" and len(token) >= 32
        attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
        assert {"path=/", "httponly", "samesite=lax"} <= attributes
        assert c.get("/cart").headers.get("set-cookie") is None  # the client sent it back
    with client(cart_url) as other:
        assert other.get("/cart").headers["set-cookie"] != cookie


def test_post_adds_one_and_sessions_are_isolated(cart_url: str) -> None:
    with client(cart_url) as alice, client(cart_url) as bob:
        for sku in (5, 2, 5):
            r = alice.post("/cart", json={"sku_id": sku})
            assert r.status_code == 201 and r.text == "Created"
        assert bob.post("/cart", json={"sku_id": 9}).status_code == 201
        assert alice.get("/cart").json() == [{"sku_id": 2, "count": 1}, {"sku_id": 5, "count": 2}]
        assert bob.get("/cart").json() == [{"sku_id": 9, "count": 1}]
        assert alice.cookies["atelier_session"] != bob.cookies["atelier_session"]


def test_post_without_a_cookie_starts_a_session(cart_url: str) -> None:
    r = httpx.post(cart_url + "/cart", json={"sku_id": 4})
    assert r.status_code == 201
    token = r.cookies["atelier_session"]
    with client(cart_url, token) as c:
        assert c.get("/cart").json() == [{"sku_id": 4, "count": 1}]


def test_a_malformed_cookie_gets_a_new_session(cart_url: str) -> None:
    with client(cart_url, "../../etc/passwd" + "x" * 100) as c:
        r = c.get("/cart")
        assert r.status_code == 200 and r.json() == [] and "atelier_session=" in r.headers["set-cookie"]


def test_unknown_sku_is_422(cart_url: str) -> None:
    with client(cart_url) as c:
        r = c.post("/cart", json={"sku_id": 999999})
        assert r.status_code == 422 and r.text == INVALID_SKU
        assert c.get("/cart").json() == []


def test_sku_id_as_a_string_is_added(cart_url: str) -> None:
    """api.md: "add to bag" posts `{"sku_id": "13"}` (the key of the `skus` object)."""
    with client(cart_url) as c:
        assert c.post("/cart", json={"sku_id": "3"}).status_code == 201
        assert c.get("/cart").json() == [{"sku_id": 3, "count": 1}]


@pytest.mark.parametrize("payload", [{"sku_id": "03"}, {"sku_id": "3.0"}, {"sku_id": " 3"},
                                     {"sku_id": 0}, {"sku_id": -1}, {"sku_id": 2**31},
                                     {"sku_id": True}, {"sku_id": 1.5}, {"sku_id": None}, {}, [3], 3])
def test_invalid_body_is_422(cart_url: str, payload: Any) -> None:
    r = httpx.post(cart_url + "/cart", json=payload)
    assert r.status_code == 422 and r.text == INVALID_SKU


def test_malformed_json_is_422(cart_url: str) -> None:
    r = httpx.post(cart_url + "/cart", content=b'{"sku_id": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.text == INVALID_SKU


def test_concurrent_adds_are_all_kept(cart_url: str) -> None:
    token = httpx.get(cart_url + "/cart").cookies["atelier_session"]

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=cart_url, cookies={"atelier_session": token}, timeout=30) as c:
            return [r.status_code for r in await asyncio.gather(*(c.post("/cart", json={"sku_id": 6})
                                                                  for _ in range(40)))]

    assert asyncio.run(burst()) == [201] * 40
    with client(cart_url, token) as c:
        assert c.get("/cart").json() == [{"sku_id": 6, "count": 40}]


# --- the loader ------------------------------------------------------------------------------------

def test_loader_counts_rejects_and_idempotence(tmp_path: Path, empty_db: str) -> None:
    env = {"DATABASE_URL": empty_db}
    atelier("load", "--data", str(SAMPLE), "--only", "products", env=env)
    data = tmp_path / "data"
    data.mkdir()
    (data / "cart.csv").write_bytes(b"\xef\xbb\xbf" + CART.replace("\n", "\r\n").encode())  # re-saved copy
    result = atelier("load", "--data", str(data), "--rejects", str(tmp_path / "rejects"), "--only", "cart", env=env)
    assert summary_counts(result.stdout)["cart.csv"] == (10, 6, 4)
    found = {r["line"]: r["reason"] for r in rejects(tmp_path / "rejects")["cart.csv"]}
    assert set(found) == {"8", "9", "10", "11"}
    assert "sku_id" in found["8"] and "active" in found["9"] and "sku_id 999999" in found["10"]
    assert "user_session" in found["11"]
    rows = [tuple(r) for r in fetch(empty_db, "SELECT id, user_session, sku_id, active FROM cart.cart ORDER BY id")]
    assert rows == [(1, "1234", 3, True), (2, "1234", 1, True), (3, "1234", 3, True), (4, "5678", 1, True),
                    (5, "1234", 2, False), (6, "1234", 7, True)]
    atelier("load", "--data", str(data), "--only", "cart", env=env)
    assert [tuple(r) for r in fetch(empty_db, "SELECT id, user_session, sku_id, active FROM cart.cart "
                                              "ORDER BY id")] == rows
    assert fetch(empty_db, "SELECT nextval(pg_get_serial_sequence('cart.cart', 'id'))")[0][0] == 7


def test_generated_cart_loads(tmp_path: Path, empty_db: str) -> None:
    data = tmp_path / "data"
    atelier("generate", "--out", str(data), "--scale", "0.0002", "--defect-rate", "0.05", "--only", "products",
            "cart", "--quiet")
    result = atelier("load", "--data", str(data), "--only", "products", "cart", env={"DATABASE_URL": empty_db})
    read, loaded, rejected = summary_counts(result.stdout)["cart.csv"]
    assert read == loaded + rejected and loaded >= read * 0.9
    orphans = fetch(empty_db, "SELECT count(*) FROM cart.cart c WHERE NOT EXISTS "
                              "(SELECT 1 FROM products.sku s WHERE s.id = c.sku_id)")[0][0]
    assert orphans == 0


def test_cart_without_products_is_a_clear_error(tmp_path: Path, empty_db: str) -> None:
    result = atelier("load", "--data", str(sample_copy(tmp_path / "data", cart=CART)), "--only", "cart",
                     env={"DATABASE_URL": empty_db}, check=False)
    assert result.returncode == 1 and "no products.sku table" in result.stderr
    assert "load products first" in result.stderr
    assert "Traceback" not in result.stderr
    assert fetch(empty_db, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'cart%'") == []
