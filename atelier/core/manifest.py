"""The `Service` manifest: what a service (products, reviews, qa, cart, interactions) gives the
rest of the system."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from .generating import GenerateOptions
from .http import Router
from .loading.context import LoadContext


def lazy_generator(module: str) -> Callable[[GenerateOptions], list[Path]]:
    """The `generate` of `module`, imported on first use: only `atelier generate` needs it."""

    def generate(options: GenerateOptions) -> list[Path]:
        return importlib.import_module(module).generate(options)

    return generate


@dataclass
class Service:
    name: str  # also its PostgreSQL schema
    router: Router
    create_tables: Callable[[asyncpg.Connection, str], Awaitable[None]]  # empty tables, no indexes
    create_indexes: Callable[[asyncpg.Connection, str], Awaitable[None]]
    files: tuple[str, ...] = ()
    load: Callable[[LoadContext], Awaitable[None]] | None = None
    generate: Callable[[GenerateOptions], list[Path]] | None = None
    version: int = 1  # of the tables' layout: a database with another version must be reloaded
    routines: str = ""  # SQL (CREATE OR REPLACE FUNCTION ...) run on the live schema by migrate and load
