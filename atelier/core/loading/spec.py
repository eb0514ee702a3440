"""What a service says about one of its files: the loader's input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Column:
    name: str  # the database column, which is also the canonical legacy header name
    parse: Callable[[str], Any]
    parent: str | None = None  # "service.table" whose ids this value must be one of (orphan check)


@dataclass
class FileSpec:
    file: str
    table: str
    columns: list[Column]
    aliases: dict[str, str] = field(default_factory=dict)  # legacy header -> column, e.g. productId
    key: str | None = "id"  # unique id column: duplicates are rejected; its ids are collected
    repair_unterminated: bool = False  # a line with an odd number of quotes is closed, not joined

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

