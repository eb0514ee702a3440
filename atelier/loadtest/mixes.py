"""What a load test asks for: endpoints, mixes of them, and the ids they draw.

An endpoint is a method, a path with at most one `{id}` and the kind of id that fills it
(product, page, question or review). Ids are drawn uniformly from a range: the full range of
the target's ids (learned from the target, see discover.py, or given by flags), or its last 10%
(recent products, the "hot" end of the table).
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE_SIZE = 5  # the list endpoint's page size ("products" below)
ID_KINDS = ("product", "page", "question", "review")

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

    @property
    def id_kinds(self) -> set[str]:
        """The kinds of id the mix draws (none for /cart, /interactions, /health)."""
        return {e.ids for e, _ in self.parts if e.ids}


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


def pages(products: int) -> int:
    """Pages of PAGE_SIZE products that `products` products fill."""
    return max(1, -(-products // PAGE_SIZE))


def id_ranges(full: dict[str, tuple[int, int]], ids: str) -> dict[str, tuple[int, int]]:
    """The inclusive ranges ids are drawn from: each full range ("uniform") or its last 10% ("recent")."""
    for kind, (low, high) in full.items():
        if not 1 <= low <= high:
            raise ValueError(f"empty or invalid {kind} id range {low}..{high}")
    if ids == "uniform":
        return dict(full)
    if ids == "recent":
        return {kind: (high - max(1, (high - low + 1) // 10) + 1, high) for kind, (low, high) in full.items()}
    raise ValueError(f"unknown id distribution {ids!r}: uniform or recent")
