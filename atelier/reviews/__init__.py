"""Reviews: reviews.csv, reviews_photos.csv, characteristics.csv, characteristic_reviews.csv."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, queries, routes, tables

SERVICE = Service(
    name="reviews",
    router=routes.router,
    tables=tables.TABLES,
    depends_on=("products",),
    load=load.load,
    generate=lazy_generator("atelier.reviews.generate"),
    version=2,  # 2: listings of review ids and per-review documents
    routines=queries.ROUTINES,
)
