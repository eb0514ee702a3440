"""The services, in load order (a service may check ids of the ones before it)."""

from __future__ import annotations

import importlib

from .core.manifest import Service

NAMES = ("products", "reviews", "qa", "cart", "interactions")


def all_services() -> list[Service]:
    services = []
    for name in NAMES:
        try:
            module = importlib.import_module(f"atelier.{name}")
        except ImportError:
            continue
        service = getattr(module, "SERVICE", None)
        if service is not None:
            services.append(service)
    return services


def by_names(names: list[str] | None) -> list[Service]:
    services = all_services()
    if not names:
        return services
    known = {s.name for s in services}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown service(s) {unknown}; known: {sorted(known)}")
    return [s for s in services if s.name in names]
