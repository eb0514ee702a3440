"""The SQL of the products endpoints: every answer is one lookup of a precomputed document
(`products.document`, see documents.py); concurrent lookups of one column share a query."""

from __future__ import annotations

from ..core.app import App
from ..core.batching import KeyedReader
from ..core.per_app import PerApp
from ..core.values import PG_INT_MAX

COLUMNS = ("detail", "styles", "related")  # the documents read by product id

DOCUMENT = "SELECT {0} FROM products.document WHERE product_id = $1"
DOCUMENTS = "SELECT product_id, {0} FROM products.document WHERE product_id = ANY($1::int[])"
PAGE = "SELECT product_id, summary FROM products.document WHERE position > $1 ORDER BY position LIMIT $2"

_READERS = PerApp(lambda app: {column: KeyedReader(app.db(), DOCUMENTS.format(column), DOCUMENT.format(column))
                               for column in COLUMNS})


async def document(app: App, column: str, product_id: int) -> bytes | None:
    """The product's precomputed `column` (one of COLUMNS); None when there is no such product."""
    return await _READERS(app)[column].get(product_id)


async def page(app: App, offset: int, limit: int) -> list[tuple[int, bytes]]:
    """(id, summary document) of the products at positions offset+1..offset+limit, in id order."""
    if offset >= PG_INT_MAX or limit == 0:
        return []
    return [(row[0], row[1]) for row in await app.db().fetch(PAGE, offset, limit)]
