"""Concurrent writes on the reviews endpoints, through a real server with two worker processes on
a database of its own: atomic votes, exact precomputed documents after parallel writes, and every
acknowledged write visible to the very next read through any process."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from conftest import SAMPLE, Server, fetch, loaded_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with loaded_database(SAMPLE, rejects=tmp_path_factory.mktemp("rejects")) as url:
        yield url


@pytest.fixture(scope="module")
def racing(database: str) -> Iterator[Server]:
    srv = Server(database, workers=2)
    try:
        yield srv
    finally:
        srv.stop()


async def send_all(base_url: str, requests: list[tuple[str, str, Any]]) -> list[int]:
    """Sends every (method, path, json) at once; returns the status codes."""
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        responses = await asyncio.gather(*(client.request(m, p, json=j) for m, p, j in requests))
    return [r.status_code for r in responses]


def recomputed_meta(url: str, product_id: int) -> dict[str, Any]:
    """The product's meta straight from the tables, with PostgreSQL's own avg() (api.md)."""
    ratings = fetch(url, "SELECT rating::text, count(*)::text FROM reviews.review WHERE product_id = $1 "
                         "GROUP BY 1 ORDER BY 1", product_id)
    recommended = fetch(url, "SELECT recommend::text, count(*)::text FROM reviews.review WHERE product_id = $1 "
                             "GROUP BY 1 ORDER BY 1", product_id)
    characteristics = fetch(url, """SELECT c.name, c.id, avg(cr.value)::text FROM reviews.characteristic c
                                    LEFT JOIN reviews.characteristic_review cr ON cr.characteristic_id = c.id
                                    WHERE c.product_id = $1 GROUP BY c.id ORDER BY c.id""", product_id)
    return {"product_id": str(product_id), "ratings": dict(ratings), "recommended": dict(recommended),
            "characteristics": {name: {"id": cid, "value": value} for name, cid, value in characteristics}}


def review(product_id: int, rng: random.Random, **changes: Any) -> dict[str, Any]:
    body = {"product_id": product_id, "rating": rng.randint(1, 5), "summary": "parallel",
            "body": f"written in parallel {rng.random()}", "recommend": rng.random() < 0.7, "name": "racer",
            "email": "racer@example.com", "photos": ["https://example.com/p.jpg"] * rng.randint(0, 2),
            "characteristics": {}}
    body.update(changes)
    return body


def test_200_parallel_helpful_votes_add_exactly_200(racing: Server, database: str) -> None:
    before = fetch(database, "SELECT helpfulness FROM reviews.review WHERE id = 3")[0][0]
    statuses = asyncio.run(send_all(racing.url, [("PUT", "/reviews/3/helpful", None)] * 200))
    assert statuses == [204] * 200
    assert fetch(database, "SELECT helpfulness FROM reviews.review WHERE id = 3")[0][0] == before + 200
    listed = httpx.get(f"{racing.url}/reviews?product_id=2&sort=helpful").json()["results"]
    assert listed[0]["review_id"] == 3 and listed[0]["helpfulness"] == before + 200


def test_parallel_posts_keep_meta_and_lists_exact(racing: Server, database: str) -> None:
    rng = random.Random(7)
    posts = []
    for _ in range(60):
        rated = rng.sample([1, 2, 3, 4], rng.randint(0, 4))  # product 1's characteristics, some or none
        posts.append(review(1, rng, characteristics={str(c): rng.randint(1, 5) for c in rated}))
    votes = [("PUT", f"/reviews/{rid}/helpful", None) for rid in (1, 2) * 20]  # same product, same time
    requests = [("POST", "/reviews", p) for p in posts] + votes
    rng.shuffle(requests)
    statuses = asyncio.run(send_all(racing.url, requests))
    assert sorted(statuses) == [201] * len(posts) + [204] * len(votes)

    meta = httpx.get(f"{racing.url}/reviews/meta?product_id=1").json()
    assert meta == recomputed_meta(database, 1)
    assert sum(int(n) for n in meta["ratings"].values()) == 2 + len(posts)

    table = fetch(database, "SELECT id, helpfulness FROM reviews.review WHERE product_id = 1 AND NOT reported")
    for sort in ("relevant", "helpful", "newest"):
        listed = httpx.get(f"{racing.url}/reviews?product_id=1&sort={sort}&count=1000").json()["results"]
        assert {(r["review_id"], r["helpfulness"]) for r in listed} == {tuple(r) for r in table}
    listed = httpx.get(f"{racing.url}/reviews?product_id=1&sort=helpful&count=1000").json()["results"]
    assert [r["review_id"] for r in listed] == [r[0] for r in sorted(table, key=lambda r: (-r[1], r[0]))]


def test_every_write_visible_to_the_very_next_read(racing: Server) -> None:
    rng = random.Random(11)
    for i in range(8):
        # a new connection for every request: with two workers, reads land on either process
        text = f"visibility check {i}"
        r = httpx.post(f"{racing.url}/reviews", json=review(6, rng, body=text, characteristics={"20": 1 + i % 5}))
        assert r.status_code == 201
        newest = httpx.get(f"{racing.url}/reviews?product_id=6&sort=newest&count=1").json()["results"][0]
        assert newest["body"] == text
        meta = httpx.get(f"{racing.url}/reviews/meta?product_id=6").json()
        assert sum(int(n) for n in meta["ratings"].values()) == i + 1
        assert httpx.put(f"{racing.url}/reviews/{newest['review_id']}/helpful").status_code == 204
        again = httpx.get(f"{racing.url}/reviews?product_id=6&sort=newest&count=1").json()["results"][0]
        assert again["helpfulness"] == 1
        assert httpx.put(f"{racing.url}/reviews/{newest['review_id']}/report").status_code == 204
        listed = httpx.get(f"{racing.url}/reviews?product_id=6&count=100").json()["results"]
        assert newest["review_id"] not in [x["review_id"] for x in listed]


def test_parallel_posts_to_many_products(racing: Server, database: str) -> None:
    rng = random.Random(5)
    products = [2, 4, 5, 12, 999996]
    owned = {p: [r[0] for r in fetch(database, "SELECT id FROM reviews.characteristic WHERE product_id = $1", p)]
             for p in products}
    posts = [("POST", "/reviews", review(p, rng, characteristics={str(c): rng.randint(1, 5) for c in owned[p]}))
             for p in products for _ in range(12)]
    rng.shuffle(posts)
    assert asyncio.run(send_all(racing.url, posts)) == [201] * len(posts)
    for p in products:
        stored = orjson.loads(fetch(database, "SELECT document FROM reviews.meta WHERE product_id = $1", p)[0][0])
        assert stored == recomputed_meta(database, p)
