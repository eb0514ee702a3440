"""Products: product.csv, features.csv, styles.csv, photos.csv, skus.csv, related.csv."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, routes, tables

SERVICE = Service(
    name="products",
    router=routes.router,
    tables=tables.TABLES,
    exposes=tables.EXPOSED,
    load=load.load,
    generate=lazy_generator("atelier.products.generate"),
)
