"""Synthetic legacy cart.csv: `id,user_session,product_id,active` (legacy-csv.md, api.md Cart).

Size: 5,000 rows at full scale, scaled by the product count, never fewer than 50.
Each row adds one unit of a sku to a session's cart: `user_session` is an integer session id
(sessions have ~4 rows and 1-5 distinct skus, so a sku may repeat within a session), rows of
different sessions are interleaved, and `product_id` (the legacy name) holds a sku id that
exists: 1..400 (the real head skus) at small scales, else 1..round(11,323,917 * scale * 0.9)-1.
`active` is `1` for most rows (80% of the sessions are active; 5% of rows differ from their
session).

Defects: `defect_rate` is the share of rows that get exactly one defect (0 turns them off):
  whitespace  3  one space before, after, or on both sides of `user_session` or `product_id`;
                 valid after stripping.
  junk        1  `product_id` is its digits followed by `x` (`3x`): the row is invalid.
  boolean     1  `active` is `2`: the row is invalid.
  swap        2  a row and the next one are written in swapped order (id `8` before `7`).
"""

from __future__ import annotations

from itertools import accumulate
from pathlib import Path

from ..core.generating import FULL_PRODUCTS, GenerateOptions, stream, write_bom_crlf_copy
from ..core.tables import csv_headers
from .tables import TABLES

HEADERS = csv_headers(TABLES)
FILES = tuple(HEADERS)
FILE = FILES[0]  # cart.csv
FULL_ROWS = 5_000
MIN_ROWS = 50
HEAD_SKUS = 400
FULL_SKUS = 11_323_917
ROWS_PER_SESSION = 4
ACTIVE_SESSIONS = 0.8
ROW_FLIP = 0.05
DEFECT_WEIGHTS = {"whitespace": 3, "junk": 1, "boolean": 1, "swap": 2}


def row_count(options: GenerateOptions) -> int:
    return max(MIN_ROWS, round(FULL_ROWS * options.products / FULL_PRODUCTS))


def highest_sku(scale: float) -> int:
    """The largest sku id a cart row may name: one that exists at this scale."""
    return max(HEAD_SKUS, round(FULL_SKUS * scale * 0.9) - 1)


def generate(options: GenerateOptions) -> list[Path]:
    """Write cart.csv into options.out; returns its path (then its BOM/CRLF copy)."""
    count = row_count(options)
    options.progress.start(FILE, count)
    rows = cart_rows(options.seed, count, highest_sku(options.scale))
    lines = [f"{i},{session},{sku},{active}" for i, session, sku, active in rows]
    _inject(options.seed, options.defect_rate, lines, rows)
    path = Path(options.out) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADERS[FILE] + "\n" + "".join(line + "\n" for line in lines))
    options.progress.advance(count)
    options.progress.finish()
    paths = [path]
    if options.bom_crlf:
        paths.append(write_bom_crlf_copy(path, Path(options.out)))
    return paths


def cart_rows(seed: int, count: int, top_sku: int) -> list[tuple[int, int, int, int]]:
    """(id, user_session, sku id, active) rows."""
    rng = stream(seed, "cart", "rows")
    sessions = sorted(rng.sample(range(1, 100 * count), max(5, count // ROWS_PER_SESSION)))
    skus = {s: [rng.randint(1, top_sku) for _ in range(rng.randint(1, 5))] for s in sessions}
    active = {s: int(rng.random() < ACTIVE_SESSIONS) for s in sessions}
    weights = list(accumulate(rng.expovariate(1.0) for _ in sessions))
    rows = []
    for row_id, session in enumerate(rng.choices(sessions, cum_weights=weights, k=count), start=1):
        flag = active[session] if rng.random() >= ROW_FLIP else 1 - active[session]
        rows.append((row_id, session, rng.choice(skus[session]), flag))
    return rows


def _inject(seed: int, rate: float, lines: list[str], rows: list[tuple[int, int, int, int]]) -> None:
    """Give about `rate` of the rows one defect each (forms in the module docstring)."""
    rng = stream(seed, "cart", "defects")
    wanted = len(lines) * rate
    k = min(len(lines) - 1, int(wanted) + (rng.random() < wanted - int(wanted))) if rate > 0 else 0
    if k <= 0:
        return
    chosen = list(zip(rng.choices(list(DEFECT_WEIGHTS), weights=list(DEFECT_WEIGHTS.values()), k=k),
                      rng.sample(range(len(lines) - 1), k)))
    for kind, at in chosen:  # damage first: swaps then move whole lines
        fields = [str(v) for v in rows[at]]
        if kind == "whitespace":
            column = rng.choice((1, 2))
            fields[column] = rng.choice((" %s", "%s ", " %s ")) % fields[column]
        elif kind == "junk":
            fields[2] += "x"
        elif kind == "boolean":
            fields[3] = "2"
        else:
            continue
        lines[at] = ",".join(fields)
    for kind, at in chosen:
        if kind == "swap":
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
