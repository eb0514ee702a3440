"""Every service of atelier. The order to load them in comes from their dependencies
(`core.manifest.dependency_levels`), not from this list."""

from __future__ import annotations

from . import cart, interactions, products, qa, reviews
from .core.manifest import Service, ServiceError


def all_services() -> list[Service]:
    return [products.SERVICE, reviews.SERVICE, qa.SERVICE, cart.SERVICE, interactions.SERVICE]


def by_names(names: list[str] | None) -> list[Service]:
    services = all_services()
    if not names:
        return services
    known = {s.name for s in services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ServiceError(f"unknown service(s) {unknown}; known: {sorted(known)}")
    return [s for s in services if s.name in names]
