"""Cart: cart.csv, and the carts of the sessions."""

from __future__ import annotations

from ..core.service import Service
from . import load, routes, schema


def _generate(options):  # imported lazily: the generator is only needed by `atelier generate`
    from .generate import generate

    return generate(options)


SERVICE = Service(
    name="cart",
    router=routes.router,
    create_tables=schema.create_tables,
    create_indexes=schema.create_indexes,
    files=tuple(spec.file for spec in load.FILES),
    load=load.load,
    generate=_generate,
)
