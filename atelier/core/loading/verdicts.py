"""Which parsed rows load: each row's parents must exist, then its key must be new, in line order.

`decide` takes one row at a time; `decide_many` takes a block's rows at once (numpy) with the
same result, when no row can be held back. A row is held back when its parent file is still
loading in another process (`SharedIdSet`) and its parent id is not there yet, or when an
earlier row with its key is held back (which of the two loads depends on that row's fate). Held
rows are decided again in line order as the parents come, so every row gets the verdict a load
of one file after the other gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .ids import Bools, IdSet, Ints
from .spec import FileSpec

Reject = Callable[[int, str, str], None]  # line number, reason, raw text


@dataclass
class Candidate:
    """A row whose fields are valid, waiting for its verdict."""

    number: int
    raw: str
    key: int | None
    parents: list[int]  # one value per parent check, in the order of the spec's columns
    payload: bytes  # the row as COPY reads it


class Verdicts:
    def __init__(self, spec: FileSpec, ids: dict[str, IdSet], ids_name: str, reject: Reject) -> None:
        self.spec = spec
        self.reject = reject
        self.seen = ids.setdefault(ids_name, IdSet()) if spec.key else None
        self.parent_checks = [(c.name, c.parent, ids[c.parent]) for c in spec.columns if c.parent]
        self.loaded = 0
        self.held: list[Candidate] = []
        self.held_keys: set[int | None] = set()

    def can_decide_many(self) -> bool:
        """True when no row can be held back: nothing is held, every parent file is loaded."""
        return not self.held and self.parents_complete()

    def decide(self, row: Candidate) -> bool:
        """True when the row loads. Rejects an orphan (once its parent's ids are complete) or a
        duplicate key; holds the row back when that cannot be told yet."""
        for (name, parent, parent_ids), value in zip(self.parent_checks, row.parents):
            if value not in parent_ids:
                if not parent_ids.complete:
                    return self._hold(row)
                if value not in parent_ids:  # checked again: it may have come just before completion
                    self.reject(row.number, f"{name} {value} references no {parent} row", row.raw)
                    return False
        if self.seen is not None:
            assert row.key is not None
            if row.key in self.held_keys:
                return self._hold(row)
            if not self.seen.add(row.key):
                self.reject(row.number, f"duplicate {self.spec.key} {row.key}", row.raw)
                return False
        self.loaded += 1
        return True

    def decide_many(self, keys: Ints, parents: list[Ints]) -> tuple[Bools, list[tuple[int, str]]]:
        """`decide` for rows in line order at once, when `can_decide_many`: which load, and the
        reject reason of each other one by its index (the caller writes the rejects)."""
        loads = np.ones(len(keys), np.bool_)
        reasons: list[tuple[int, str]] = []
        for (name, parent, parent_ids), values in zip(self.parent_checks, parents):
            orphans = np.flatnonzero(loads & ~parent_ids.contains_many(values))
            reasons += [(i, f"{name} {values[i]} references no {parent} row") for i in orphans.tolist()]
            loads[orphans] = False
        if self.seen is not None:
            candidates = np.flatnonzero(loads)
            wanted = keys[candidates]
            order = np.argsort(wanted, kind="stable")
            repeated = np.zeros(len(wanted), np.bool_)  # a key an earlier row of the block has
            repeated[order[1:]] = wanted[order[1:]] == wanted[order[:-1]]
            duplicates = candidates[repeated | self.seen.contains_many(wanted)]
            reasons += [(i, f"duplicate {self.spec.key} {keys[i]}") for i in duplicates.tolist()]
            loads[duplicates] = False
            self.seen.add_many(keys[loads])
        self.loaded += int(loads.sum())
        return loads, reasons

    def _hold(self, row: Candidate) -> bool:
        self.held.append(row)
        if self.seen is not None:
            self.held_keys.add(row.key)
        return False

    def settle(self) -> Iterator[bytes]:
        """Decides the held-back rows again, in line order; those still undecided stay held."""
        held, self.held, self.held_keys = self.held, [], set()
        for row in held:
            if self.decide(row):
                yield row.payload

    def parents_complete(self) -> bool:
        """True when every parent file is loaded (absence is final)."""
        return all(parent_ids.complete for _, _, parent_ids in self.parent_checks)
