"""Learning the target's id ranges from its public API, so that a load test asks for ids that exist.

Only the contract's own GET endpoints are used, so this works against any deployment of it:
- products: how many there are, by an exponential then a binary search over
  `/products?page=P&count=1` (the list is in id order, so page P of size 1 is the P-th product);
  the lowest and highest ids are those of the first and the last product. About 2 log2(N)
  requests: 42 for the full data set's 1,000,011 products.
- questions and reviews: the ids that `/qa/questions?product_id=` and `/reviews?product_id=`
  list for the last and the first products (up to SAMPLE from each end, until one has some);
  the range runs from the lowest id seen to the highest. The legacy files number questions and
  reviews in product order, so the last products hold the highest ids. Rows written since the
  load (new reviews of random products) may go higher and are not drawn; every id drawn in the
  range exists unless rows were rejected or reported.

A product range with holes (fewer products than ids) is called out: ids are drawn uniformly
over the range, so its holes answer 404, and a run with too many errors fails.

Ids given on the command line win over learned ones, and nothing is asked of the target when
the flags cover every kind of id the mix draws.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from .mixes import pages

SAMPLE = 25  # products read from each end of the catalogue when looking for question and review ids
LIST_COUNT = 1000  # page size asked of the list endpoints: every question or review of a product
SPARSE = 0.9  # below this share of existing ids in the product range, the range is called out as sparse


class TargetError(RuntimeError):
    """The target does not answer as the contract says: its ids cannot be learned."""


@dataclass
class Ids:
    """The full id range of each kind a mix draws, and where each came from."""

    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    products: int | None = None  # how many products the target lists, when learned
    learned: list[str] = field(default_factory=list)  # kinds learned from the target
    requests: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        """One line: each range, and where it came from."""
        parts = []
        for kind in ("product", "page", "question", "review"):
            if kind in self.ranges:
                low, high = self.ranges[kind]
                text = f"{kind} ids {low:,}..{high:,}" if kind != "page" else f"pages {low:,}..{high:,}"
                if kind == "product" and self.products is not None:
                    share = self.products / (high - low + 1)
                    text += f" ({self.products:,} products" + (
                        f", only {share:.2%} of the range: most ids drawn do not exist)" if share < SPARSE else ")")
                parts.append(text + ("" if kind in self.learned else " (given)"))
        source = (f"learned from the target in {self.requests} requests ({self.seconds:.2f} s)" if self.learned
                  else "from the flags")
        return ", ".join(parts) + f": {source}" if parts else "no ids"


class Client:
    """GET requests on one keep-alive connection, JSON answers."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.base = parts.path.rstrip("/")
        host = parts.hostname or "127.0.0.1"
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.conn = kind(host, parts.port, timeout=timeout)
        self.requests = 0

    def get(self, path: str) -> Any:
        self.requests += 1
        try:
            self.conn.request("GET", self.base + path, headers={"Accept": "application/json"})
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            raise TargetError(f"GET {path}: {exc}") from None
        if response.status != 200:
            raise TargetError(f"GET {path} answered {response.status}: {body[:200]!r}")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise TargetError(f"GET {path} did not answer JSON: {body[:200]!r}") from None

    def close(self) -> None:
        self.conn.close()


def learn(url: str, kinds: set[str], given: dict[str, int], timeout: float = 10.0) -> Ids:
    """The full range of every kind in `kinds`: from `given` (highest ids, from flags) or the target."""
    ids = Ids()
    for kind in kinds & given.keys():
        ids.ranges[kind] = (1, given[kind])
    if "page" in kinds and "product" in given:  # pages of products numbered densely from 1
        ids.ranges["page"] = (1, pages(given["product"]))
    missing = kinds - ids.ranges.keys()
    if not missing:
        return ids
    started = time.monotonic()
    client = Client(url, timeout)
    try:
        count = product_count(client)
        if count == 0:
            raise TargetError("the target lists no products (GET /products?page=1&count=1 is empty)")
        first, last = product_at(client, 1), product_at(client, count)
        ids.products = count
        if "product" in missing:
            ids.ranges["product"] = (first, last)
            ids.learned.append("product")
        if "page" in missing:
            ids.ranges["page"] = (1, pages(count))
            ids.learned.append("page")
        children: list[str] = [k for k in ("question", "review") if k in missing]
        if children:
            seen = child_ids(client, children, range(count, max(0, count - SAMPLE), -1))  # the highest first
            for kind, found in child_ids(client, children, range(1, min(count, SAMPLE) + 1)).items():
                seen.setdefault(kind, []).extend(found)
            for kind in children:
                if not seen.get(kind):
                    raise TargetError(f"no {kind} ids found among the first and last {SAMPLE} products: "
                                      f"does the target hold {kind}s? Pass --max-{kind}-id to choose the ids")
                ids.ranges[kind] = (min(seen[kind]), max(seen[kind]))
                ids.learned.append(kind)
    finally:
        client.close()
        ids.requests = client.requests
        ids.seconds = time.monotonic() - started
    return ids


def product_count(client: Client) -> int:
    """How many products the target lists: the last page of size 1 that is not empty."""
    if not _page(client, 1):
        return 0
    low, high = 1, 2  # page `low` has a product; is there one at `high`?
    while _page(client, high):
        low, high = high, high * 2
        if high > 1 << 31:
            raise TargetError("the product list does not end (more than 2^31 pages of one product)")
    while high - low > 1:
        middle = (low + high) // 2
        if _page(client, middle):
            low = middle
        else:
            high = middle
    return low


def product_at(client: Client, position: int) -> int:
    """The id of the product at `position` (1-based) in id order."""
    page = _page(client, position)
    if not page:
        raise TargetError(f"no product at position {position}")
    return int(page[0]["id"])


def _page(client: Client, page: int) -> list[Any]:
    body = client.get(f"/products?page={page}&count=1")
    if not isinstance(body, list):
        raise TargetError(f"GET /products?page={page}&count=1 is not a JSON array")
    return body


def child_ids(client: Client, kinds: list[str], positions: range) -> dict[str, list[int]]:
    """The question and review ids listed for the products at `positions`, read in that order
    until each kind has some."""
    found: dict[str, list[int]] = {}
    for position in positions:
        product = product_at(client, position)
        for kind in kinds:
            if kind not in found:
                listed = _questions(client, product) if kind == "question" else _reviews(client, product)
                if listed:
                    found[kind] = listed
        if len(found) == len(kinds):
            break
    return found


def _questions(client: Client, product: int) -> list[int]:
    body = client.get(f"/qa/questions?product_id={product}&count={LIST_COUNT}")
    return [int(q["question_id"]) for q in body.get("results", [])]


def _reviews(client: Client, product: int) -> list[int]:
    body = client.get(f"/reviews?product_id={product}&count={LIST_COUNT}&sort=newest")
    return [int(r["review_id"]) for r in body.get("results", [])]
