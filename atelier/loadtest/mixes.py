"""What a load test asks for: endpoints, mixes of them, and the ids they draw.

An endpoint is a method, a path with at most one `{id}` and the kind of id that fills it
(product, question or review). Ids are drawn uniformly from a range: the full range of the data
set, or its last 10% (recent products, the "hot" end of the table).
"""

from __future__ import annotations

from dataclasses import dataclass

FULL_PRODUCTS = 1_000_011
# Rows per product at full scale (legacy-csv.md), to derive the other id ranges from --max-id.
QUESTIONS_PER_PRODUCT = 3_518_963 / FULL_PRODUCTS
REVIEWS_PER_PRODUCT = 5_774_952 / FULL_PRODUCTS
PAGE_SIZE = 5  # the list endpoint's default count

INTERACTION = b'{"element":"img","widget":"related-products","time":"2021-03-17T12:00:00.000Z"}'
# A new review of a random product ({id} is replaced per request): no characteristics, so it is
# valid for every product.
REVIEW = (b'{"product_id":{id},"rating":4,"summary":"Load test","body":"Written by atelier loadtest.",'
          b'"recommend":true,"name":"loadtester","email":"load@example.com","photos":[]}')


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # may contain "{id}"
    ids: str = ""  # "product", "page", "question", "review" or "" (no id); fills {id} in path or body
    body: bytes | None = None
    write: bool = False


ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in (
    Endpoint("products", "GET", "/products?page={id}&count=5", "page"),
    Endpoint("product", "GET", "/products/{id}", "product"),
    Endpoint("styles", "GET", "/products/{id}/styles", "product"),
    Endpoint("related", "GET", "/products/{id}/related", "product"),
    Endpoint("reviews", "GET", "/reviews?product_id={id}", "product"),
    Endpoint("reviews-meta", "GET", "/reviews/meta?product_id={id}", "product"),
    Endpoint("questions", "GET", "/qa/questions?product_id={id}", "product"),
    Endpoint("answers", "GET", "/qa/questions/{id}/answers", "question"),
    Endpoint("cart", "GET", "/cart"),
    Endpoint("interactions", "POST", "/interactions", body=INTERACTION, write=True),
    Endpoint("helpful", "PUT", "/reviews/{id}/helpful", "review", write=True),
    Endpoint("post-review", "POST", "/reviews", "product", body=REVIEW, write=True),
    Endpoint("health", "GET", "/health"),
)}

# The legacy teams' eight URLs, in equal shares.
LEGACY = ("products", "product", "styles", "related", "reviews", "reviews-meta", "questions", "answers")

# A shopper browsing: every read endpoint, weighted by how often a product page calls it, and a
# small share of writes (6%: clicks recorded, reviews marked helpful).
SHOPPER = {
    "products": 5, "product": 18, "styles": 18, "related": 10, "reviews": 12, "reviews-meta": 12,
    "questions": 10, "answers": 6, "cart": 3, "interactions": 5, "helpful": 1,
}

MIXES: dict[str, dict[str, float]] = {
    "legacy": {name: 1 for name in LEGACY},
    "shopper": dict(SHOPPER),
}


@dataclass(frozen=True)
class Mix:
    name: str
    parts: tuple[tuple[Endpoint, float], ...]  # endpoint, weight (sums to 1)

    @property
    def write_share(self) -> float:
        return sum(w for e, w in self.parts if e.write)


def mix(name: str) -> Mix:
    """A named mix, one endpoint by name, or a literal path (`/products/{id}` draws product ids)."""
    if name in MIXES:
        weights = MIXES[name]
    elif name in ENDPOINTS:
        weights = {name: 1}
    elif name.startswith("/"):
        endpoint = Endpoint(name, "GET", name, "product" if "{id}" in name else "")
        return Mix(name, ((endpoint, 1.0),))
    else:
        known = ", ".join([*MIXES, *ENDPOINTS])
        raise ValueError(f"unknown mix {name!r}: use one of {known}, or a path starting with /")
    total = sum(weights.values())
    return Mix(name, tuple((ENDPOINTS[n], w / total) for n, w in weights.items()))


def id_ranges(max_id: int, ids: str) -> dict[str, tuple[int, int]]:
    """Inclusive id ranges per id kind: "uniform" over everything or "recent" (the last 10%)."""
    if max_id < 1:
        raise ValueError("--max-id must be at least 1")
    tops = {
        "product": max_id,
        "page": max(1, -(-max_id // PAGE_SIZE)),
        "question": max(1, round(max_id * QUESTIONS_PER_PRODUCT)),
        "review": max(1, round(max_id * REVIEWS_PER_PRODUCT)),
    }
    if ids == "uniform":
        return {kind: (1, top) for kind, top in tops.items()}
    if ids == "recent":
        return {kind: (max(1, top - top // 10 + 1), top) for kind, top in tops.items()}
    raise ValueError(f"unknown id distribution {ids!r}: uniform or recent")
