"""Which parsed rows load: each row's parents must exist, then its key must be new, in line order.

A block's rows are decided at once (numpy) with the result of deciding them one at a time in
line order: the first failing parent check names the reason; a key seen on an earlier line
(this block or before) makes a duplicate. Parents are always complete here: a file loads only
after the files it checks ids against (`LoadContext.load_in_order`).
"""

from __future__ import annotations

import numpy as np

from .ids import Bools, IdSet, Ints
from .spec import FileSpec


class Verdicts:
    def __init__(self, spec: FileSpec, ids: dict[str, IdSet], ids_name: str) -> None:
        self.spec = spec
        self.seen = ids.setdefault(ids_name, IdSet()) if spec.key else None
        self.parent_checks = [(c.name, c.parent, ids[c.parent]) for c in spec.columns if c.parent]
        self.loaded = 0

    def decide(self, keys: Ints, parents: list[Ints]) -> tuple[Bools, list[tuple[int, str]]]:
        """Rows in line order, by their key (ignored without one) and parent values (one array
        per parent check, in the spec's column order): which load, and the reject reason of each
        other one by its index."""
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
