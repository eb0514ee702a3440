"""The `Service` manifest: what a service (products, reviews, qa, cart, interactions) gives the
rest of the system, and what it needs from the others."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .generating import GenerateOptions
from .http import Router
from .loading.context import LoadContext
from .tables import Table


class ServiceError(Exception):
    """Services asked for that cannot be: an unknown name, a dependency not loaded, a cycle. The
    command line prints the message and exits with status 1."""


def lazy_generator(module: str) -> Callable[[GenerateOptions], list[Path]]:
    """The `generate` of `module`, imported on first use: only `atelier generate` needs it."""

    def generate(options: GenerateOptions) -> list[Path]:
        return importlib.import_module(module).generate(options)

    return generate


@dataclass
class Service:
    name: str  # also its PostgreSQL schema
    router: Router
    tables: tuple[Table, ...]  # its own, in creation and load order
    depends_on: tuple[str, ...] = ()  # services whose exposed tables it reads: they load before it
    exposes: tuple[Table, ...] = ()  # its tables that other services may read, by name
    load: Callable[[LoadContext], Awaitable[None]] | None = None
    generate: Callable[[GenerateOptions], list[Path]] | None = None
    version: int = 1  # of the tables' layout: a database with another version must be reloaded
    routines: str = ""  # SQL (CREATE OR REPLACE FUNCTION ...) run on the live schema by migrate and load

    def __post_init__(self) -> None:
        strangers = [str(t) for t in self.tables if t.schema != self.name]
        if strangers:
            raise ServiceError(f"{self.name} declares tables of other services: {strangers}")
        undeclared = [str(t) for t in self.parent_tables if t.schema not in self.depends_on]
        if undeclared:
            raise ServiceError(f"{self.name} checks ids against {undeclared} but does not depend on their service")

    @property
    def files(self) -> tuple[str, ...]:
        """The legacy files it loads, in load order."""
        return tuple(t.file for t in self.tables if t.file is not None)

    @property
    def parent_tables(self) -> tuple[Table, ...]:
        """Other services' tables whose ids its files are checked against (once each, in order)."""
        found = [p for t in self.tables for p in t.parents if p.schema != self.name]
        return tuple(dict.fromkeys(found))


def dependency_levels(services: Sequence[Service]) -> list[list[Service]]:
    """`services` in load order, grouped: every service depends only on services of earlier
    groups (or on services not in `services`, which must be loaded already), so the services of
    one group may load side by side. Within a group, the order of `services`."""
    asked = {s.name for s in services}
    done: set[str] = set()
    levels: list[list[Service]] = []
    waiting = list(services)
    while waiting:
        level = [s for s in waiting if all(d in done or d not in asked for d in s.depends_on)]
        if not level:
            raise ServiceError(f"services that depend on each other: {[s.name for s in waiting]}")
        levels.append(level)
        done |= {s.name for s in level}
        waiting = [s for s in waiting if s.name not in done]
    return levels
