"""Reviews: reviews.csv, reviews_photos.csv, characteristics.csv, characteristic_reviews.csv."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, queries, routes, schema

SERVICE = Service(
    name="reviews",
    router=routes.router,
    create_tables=schema.create_tables,
    create_indexes=schema.create_indexes,
    files=tuple(spec.file for spec in load.FILES),
    load=load.load,
    generate=lazy_generator("atelier.reviews.generate"),
    version=2,  # 2: listings of review ids and per-review documents
    routines=queries.ROUTINES,
)
