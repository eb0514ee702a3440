"""Cart: cart.csv, and the carts of the sessions."""

from __future__ import annotations

from ..core.manifest import Service, lazy_generator
from . import load, routes, tables

SERVICE = Service(
    name="cart",
    router=routes.router,
    tables=tables.TABLES,
    depends_on=("products",),
    load=load.load,
    generate=lazy_generator("atelier.cart.generate"),
)
