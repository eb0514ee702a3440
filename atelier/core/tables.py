"""A table declared once: its columns and their SQL types, its key and indexes, and the legacy
CSV file it loads from (header, legacy names, parsers, parent tables).

Everything else derives from the declaration: the DDL (`create_sql`), the keys and indexes
(`key_sql`, `index_sql`), the identities' restart after a bulk load (`identity_restart_sql`),
the generator's header (`csv_header`) and the loader's input (`file_spec`). The columns a file
holds are the ones with a parser, in file order; the others (defaults, precomputed data) follow.
`str(table)` is its live name, `products.product`, so that a table drops into SQL as
`f"SELECT id FROM {PRODUCT}"`; `table.at(schema)` names it in a staging schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .loading.spec import Column as FileColumn
from .loading.spec import FileSpec


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # SQL type with constraints and default: "integer NOT NULL", "boolean NOT NULL DEFAULT false"
    parse: Callable[[str], Any] | None = None  # the legacy CSV field's parser; None: not in the file
    parent: Table | None = None  # the table whose key this value must be (rows that name none are rejected)
    header: str | None = None  # the name in the legacy file's header where it is not `name` (`productId`)
    storage: str | None = None  # SET STORAGE after creation (`EXTERNAL`: out of line, uncompressed)

    @property
    def is_identity(self) -> bool:
        return "AS IDENTITY" in self.type


@dataclass(frozen=True)
class Index:
    columns: str  # "product_id, helpful DESC, id"
    unique: bool = False
    include: str = ""  # covered columns: `(position) INCLUDE (product_id)` answers from the index


@dataclass(frozen=True)
class Table:
    schema: str  # the service that owns it (its PostgreSQL schema)
    name: str
    columns: tuple[Column, ...]
    file: str | None = None  # the legacy CSV file it is loaded from
    key: str | None = "id"  # unique: the loader rejects a duplicate and collects the ids for children
    primary_key: bool = True  # the key is a PRIMARY KEY; False where the loader's check is enough
    indexes: tuple[Index, ...] = ()
    storage_parameters: str = ""  # WITH (...), e.g. "toast_tuple_target = 8160"
    repair_unterminated: bool = False  # the file's unterminated quotes are closed (photos.csv)

    def __post_init__(self) -> None:
        loaded = [c.name for c in self.loaded_columns]
        if [c.name for c in self.columns[:len(loaded)]] != loaded:
            raise ValueError(f"{self}: the columns of its file come first, in file order")
        if loaded and self.file is None:
            raise ValueError(f"{self}: parsers for a table that loads no file")

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    def at(self, schema: str) -> str:
        """The table's name in `schema` (a service loads into a staging schema)."""
        return f"{schema}.{self.name}"

    @property
    def loaded_columns(self) -> tuple[Column, ...]:
        """The columns of the legacy file, in file order: the ones with a parser."""
        return tuple(c for c in self.columns if c.parse is not None)

    @property
    def parents(self) -> tuple[Table, ...]:
        return tuple(c.parent for c in self.columns if c.parent is not None)

    # --- SQL -------------------------------------------------------------------------------------

    def create_sql(self, schema: str) -> list[str]:
        """CREATE TABLE, without keys or indexes (built after a bulk load)."""
        columns = ", ".join(f"{c.name} {c.type}" for c in self.columns)
        options = f" WITH ({self.storage_parameters})" if self.storage_parameters else ""
        return [f"CREATE TABLE {self.at(schema)} ({columns}){options}"] + [
            f"ALTER TABLE {self.at(schema)} ALTER {c.name} SET STORAGE {c.storage}" for c in self.columns if c.storage]

    def key_sql(self, schema: str) -> list[str]:
        if self.key is None or not self.primary_key:
            return []
        return [f"ALTER TABLE {self.at(schema)} ADD PRIMARY KEY ({self.key})"]

    def index_sql(self, schema: str) -> list[str]:
        return [f"CREATE {'UNIQUE ' if index.unique else ''}INDEX ON {self.at(schema)} ({index.columns})"
                + (f" INCLUDE ({index.include})" if index.include else "") for index in self.indexes]

    def keys_and_indexes_sql(self, schema: str) -> list[str]:
        return self.key_sql(schema) + self.index_sql(schema)

    def identity_restart_sql(self, schema: str) -> list[str]:
        """After a bulk load of explicit ids, new rows get ids past the largest loaded one."""
        return [f"SELECT setval(pg_get_serial_sequence('{self.at(schema)}', '{c.name}'), "
                f"(SELECT coalesce(max({c.name}), 0) + 1 FROM {self.at(schema)}), false)"
                for c in self.columns if c.is_identity]

    # --- the legacy file -------------------------------------------------------------------------

    @property
    def csv_header(self) -> str:
        """The header line of the legacy file, with its legacy names (`id,productId,...`)."""
        return ",".join(c.header or c.name for c in self.loaded_columns)

    def file_spec(self) -> FileSpec:
        """The loader's input: how each field parses, which parent it names, the legacy names."""
        if self.file is None:
            raise ValueError(f"{self} loads no file")
        return FileSpec(
            self.file, self.name,
            [FileColumn(c.name, c.parse, None if c.parent is None else str(c.parent))
             for c in self.columns if c.parse is not None],
            aliases={c.header: c.name for c in self.loaded_columns if c.header},
            key=self.key, repair_unterminated=self.repair_unterminated)


def csv_headers(tables: Iterable[Table]) -> dict[str, str]:
    """file -> header line, for the generators."""
    return {t.file: t.csv_header for t in tables if t.file is not None}
