"""Synthetic legacy products-side files: product.csv, features.csv, styles.csv, photos.csv,
skus.csv and related.csv (legacy-csv.md).

Real rows: the sample's rows are written verbatim at their ids: products 1-19 (and, at full
scale, 999,996-1,000,011), features 1-47 (products 1-20), styles 1-65 (products 1-16, product 11
has none), photos (332 rows, ids up to 395) and skus 1-435 (styles 1-65) and related 1-92
(products 1-20), with their real defects (swapped ids, `null`, a ` 11` quantity, styles 7-10
without photos or skus, products 7 and 9 without a default style, duplicates and self
references...). Generated
children start after them: features and related rows with product 21, styles with product 17
(style 66), photos at id 396 and skus at id 436 with style 66. Tail products get generated
children.

Shape (averages per parent, tuned to the full-scale totals): styles 1.96 (1-6), photos 2.89
(1-4), skus 5.8 (XS..XXL for clothing, a run of 5-11 shoe sizes of 7..13 for shoes, `One Size`
for accessories; the kind comes from `plan.category`), features 2.2 (0-5), related 4.5 (0-8,
uniform over all products). Prices are whole dollars 1-1000; styles cost their product's price;
about 12% of styles have a `sale_price`, the rest `null`.

Always present (they are the data's shape, not random defects, and do not depend on
`defect_rate`): `null` in `styles.sale_price`; `null` as the value of flag-like features
(`Non-GMO`, `5 Year Warranty`, ...); the camelCase headers `productId`/`styleId`. Without
defects, generated feature names, style names and sizes are unique within their parent,
related rows are unique, never self references, never 0, and every product with styles has
exactly one default style.

Defects: `defect_rate` is the share of generated parents or rows that get one defect (the real
rows never get one; 0 turns them off). Shape defects, per generated product or style:
  products (styles.csv, photos.csv, skus.csv agree on them):
    no styles      3  the product has no styles.
    no default     3  all of its styles have `default_style` 0 (it has styles).
    dup style name 3  its last style has the name of its first one (at least two styles).
  products (features.csv):
    dup feature    1  its last feature has the name of its first one (at least two features).
  styles (photos.csv): no photos: the style has none.
  styles (skus.csv):
    no skus        1  the style has no skus.
    dup size       2  its last sku has the size of the one before (`XS,...,XL,XL`); a
                      `One Size` style gets two `One Size` skus.
Row defects, per generated row, with their weights:
  every file:
    swap           *  the row and the next are written in swapped order (id `8` before `7`).
  product.csv (swap 4; never an invalid row, so that every product id 1..N loads)
    whitespace     3  `default_price` gets one space before or after (` 42`, `42 `): valid
                      after stripping.
  features.csv (swap 3)
    null           3  `value` is `null` for a feature that normally has one.
    orphan         1  `product_id` is above the last product id: the product does not exist.
    whitespace     1  ` 42` / `42 ` in `product_id`.
  styles.csv (swap 3)
    whitespace     2  ` 42` / `42 ` in `original_price`.
    junk           1  `original_price` is `<digits>x`: invalid.
    boolean        1  `default_style` is `2`: invalid.
  photos.csv (swap 3)
    unterminated   6  `thumbnail_url` lacks its closing quote: the line ends `...&q=80`.
    orphan         1  `styleId` is above the last style id: the style does not exist.
    whitespace     1  ` 42` / `42 ` in `styleId`.
  skus.csv (swap 4)
    whitespace     3  ` 11` / `11 ` in `quantity` (as the real ` 11`).
    orphan         1  `styleId` above the last style id.
    junk           1  `quantity` is `<digits>x`: invalid.
  related.csv (swap 2)
    zero           3  `related_product_id` is `0` (dangling).
    duplicate      3  the row repeats the product's previous (or next) related product (a
                      product with a single related row gets a self reference instead).
    self           3  `related_product_id` is the product itself.
    whitespace     1  ` 42` / `42 ` in `related_product_id`.
So rows a loader must reject (junk, boolean, orphan; and the row after an unterminated photo,
which a strict parser swallows) are a small part of the defects.

Blocks: products are cut into blocks of 4,096 ids (the plan's category blocks). Each block's
rows come from its own random streams, so a first pass counts the rows of every block (giving
every block its first ids) and the blocks are then rendered in any process: the files are
byte-identical whatever the number of workers.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import accumulate
from pathlib import Path
from random import Random

from ..core.fake import FIRST_NAMES, sentence
from ..core.generating import GenerateOptions, hit_positions, legacy_lines, quote, stream, write_bom_crlf_copy
from ..core.tables import csv_headers
from ..core.workers import Workers
from .plan import categories, kind
from .tables import LEGACY

HEADERS = csv_headers(LEGACY)
FILES = tuple(HEADERS)

BLOCK = 4096  # products per block, aligned with plan.categories' blocks

# ---------------------------------------------------------------- shape (tuned to the spec)

STYLE_COUNTS, STYLE_CUM = (1, 2, 3, 4, 5, 6), tuple(accumulate((48, 26, 14, 7.5, 3, 1.5)))
PHOTO_COUNTS, PHOTO_CUM = (1, 2, 3, 4), tuple(accumulate((5, 30, 36.2, 28.8)))
FEATURE_COUNTS, FEATURE_CUM = (0, 1, 2, 3, 4, 5), tuple(accumulate((4, 25.5, 32, 24.5, 11, 3)))
RELATED_COUNTS, RELATED_CUM = tuple(range(9)), tuple(accumulate((1, 3, 8, 16, 21.5, 22, 16.5, 8, 4.2)))
SHOE_RUNS, SHOE_CUM = (5, 6, 7, 8, 9, 10, 11), tuple(accumulate((13, 14, 14, 14, 14, 15, 16)))
SALE_SHARE = 0.12
PRICES = range(1, 1001)
QUANTITIES = range(0, 61)

CLOTHING_SIZES = tuple(quote(s) for s in ("XS", "S", "M", "L", "XL", "XXL"))
SHOE_SIZES = tuple(quote(f"{n / 2:g}") for n in range(14, 27))  # "7", "7.5", ... "13"
ONE_SIZE = (quote("One Size"),)

COLORS = tuple(quote(c) for c in (
    "Black", "White", "Grey", "Silver", "Red", "Maroon", "Orange", "Yellow", "Gold", "Goldenrod",
    "Olive", "Lime", "Green", "Mint green", "Forest Green", "Teal", "Cyan", "Turquoise", "Azure",
    "Sky blue", "Blue", "Navy", "Indigo", "Violet", "Purple", "Lavender", "Plum", "Orchid",
    "Magenta", "Fuchsia", "Pink", "Salmon", "Tan", "Khaki", "Ivory", "Chartreuse", "Black & White",
    "Red & Black", "Blue & Grey", "Desert Brown & Tan", "Ocean Blue & Grey", "Dark Grey & Black",
))

FEATURES: dict[str, tuple[str | None, ...]] = {
    "Fabric": ("Canvas", "100% Cotton", "99% Cotton 1% Elastic", "Cashmere", "95% Cotton, 5% Elastic",
               "Silk", "Denim", "Wool", "Linen", "Organic Cotton"),
    "Buttons": ("Brass", "White Resin", "Wood", "Silver", "Black Resin"),
    "Lenses": ("Ultrasheen", "Ultrasheen Basic", "Polarized", "Gradient"),
    "Lens": ("Ultrasheen Basic", "100% UV Protective", "Polarized", "Mirrored"),
    "Frames": ("LightCompose", "DuraResin", "Titanium"),
    "Frame": ("AllLight Composition Resin", "DuraResin", "Metal"),
    "Cut": ("Skinny", "Loose", "Straight", "Relaxed", "Slim", "Tapered"),
    "Sole": ("Rubber", "Foam", "Leather"),
    "Material": ("FullControlSkin", "Leather", "Suede", "Mesh", "Knit"),
    "Mid-Sole": ("ControlSupport Arch Bridge", "Memory Foam", "Gel"),
    "Stitching": ("Double Stitch", "Cross Stitch", "Single Stitch"),
    "UV Protection": (None,),
    "Green Leaf Certified": (None,),
    "Non-GMO": (None,),
    "Lifetime Guarantee": (None,),
    "Fair Trade Certified": (None,),
    "5 Year Warranty": (None,),
}
FEATURE_NAMES = tuple(quote(name) for name in FEATURES)
FEATURE_VALUES = tuple(tuple("null" if v is None else quote(v) for v in values) for values in FEATURES.values())
VALUED_FEATURES = frozenset(quote(name) for name, values in FEATURES.items() if values[0] is not None)

PRODUCT_NAMES = tuple(FIRST_NAMES) + tuple(
    "Belle Heber Jaeden Jerrod Alexane Bartholome Oliver Eloisa Grant Ophelia Carlo Rowland Noemi "
    "Monique Bridget Armand Giuseppe Christelle Agustina Stanford Melba Camila Dorothea Elmore "
    "Felicita Gideon Hortense Ignatius Juliana Kenyatta Lorenzo Mireya Nathanael Orrin Pascale".split()
)
NAME_PREFIX, NAME_PREFIX_CUM = ("", "The "), (92, 100)
NAME_INFIX, NAME_INFIX_CUM = ("", " 0"), (96, 100)
DESCRIPTION_SENTENCES = (2, 3, 4, 5, 6)

# ---------------------------------------------------------------- real rows of the sample

TAIL_FIRST = 999_996


@dataclass(frozen=True)
class Real:
    """The sample's rows of one file: its lines, the last parent it covers and its next free id."""

    lines: tuple[str, ...]
    covered_parent: int
    next_id: int


@cache
def real(filename: str) -> Real:
    lines = tuple(legacy_lines(filename))
    if filename == "product.csv":
        head = tuple(line for line in lines if _field(line, 0) < TAIL_FIRST)
        return Real(head, max(_field(line, 0) for line in head), 0)
    return Real(lines, max(_field(line, 1) for line in lines), max(_field(line, 0) for line in lines) + 1)


@cache
def real_products(full: bool) -> dict[int, str]:
    """Product rows written verbatim: the head always, the tail at full scale."""
    rows = {_field(line, 0): line for line in legacy_lines("product.csv")}
    return {pid: line for pid, line in rows.items() if pid < TAIL_FIRST or full}


def _field(line: str, index: int) -> int:
    return int(line.split(",", index + 1)[index])


def _real_price(line: str) -> int:
    return int(line.rsplit(",", 1)[1])


# ---------------------------------------------------------------- text and url pools


@lru_cache(maxsize=4)
def sentences(seed: int) -> tuple[str, ...]:
    rng = stream(seed, "products", "sentences")
    return tuple(sentence(rng, 2, 11) for _ in range(8192))


@lru_cache(maxsize=1)
def photo_urls() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(url fields, thumbnail_url fields), quoted, in the style of the sample's unsplash urls."""
    text = "\n".join(legacy_lines("photos.csv"))
    ids = sorted(set(re.findall(r"images\.unsplash\.com/photo-([0-9a-f-]+)\?", text)))
    widths = sorted({int(w) for w in re.findall(r"&w=(\d+)&", text)} - {300})
    base = "https://images.unsplash.com/photo-{}?ixlib=rb-1.2.1{}&auto=format&fit=crop&w={}&q=80"
    variants = ("&ixid=eyJhcHBfaWQiOjEyMDd9", "")
    urls = tuple(quote(base.format(i, v, w)) for i in ids for v in variants for w in widths)
    thumbs = tuple(quote(base.format(i, v, 300)) for i in ids for v in variants)
    return urls, thumbs


# ---------------------------------------------------------------- the job and its blocks


@dataclass(frozen=True)
class Job:
    seed: int
    products: int
    rate: float
    full: bool
    last_style: int = 0  # the last style id (orphans point above it)

    @property
    def blocks(self) -> int:
        return self.products // BLOCK + 1

    def span(self, block: int) -> range:
        return range(max(1, block * BLOCK), min(self.products, (block + 1) * BLOCK - 1) + 1)


def _hits(job: Job, names: tuple, n: int, kinds: Sequence[str],
          weights: Sequence[float]) -> tuple[list[tuple[int, str]], Random]:
    """Row defects of a block: (index, kind) pairs, and the stream that shapes them."""
    rng = stream(job.seed, *names)
    positions = hit_positions(rng, job.rate, n)
    return list(zip(positions, rng.choices(kinds, weights, k=len(positions)))), rng


def prices(job: Job, block: int) -> list[int]:
    """default_price of every product of the block (real products keep theirs)."""
    span = job.span(block)
    out = stream(job.seed, "products", "price", block).choices(PRICES, k=len(span))
    for pid, line in real_products(job.full).items():
        if pid in span:
            out[pid - span.start] = _real_price(line)
    return out


@dataclass
class StyleShape:
    """The generated styles of a block: their products, and product-level style defects."""

    product_ids: list[int]  # one entry per generated style, in style id order
    per_product: list[int]  # style count of every product of the block (0 for covered ones)
    no_default: set[int]
    dup_name: set[int]


def style_shape(job: Job, block: int) -> StyleShape:
    span = job.span(block)
    counts = stream(job.seed, "products", "n_styles", block).choices(STYLE_COUNTS, cum_weights=STYLE_CUM, k=len(span))
    hits, _ = _hits(job, ("products", "style-defects", block), len(span),
                    ("none", "no_default", "dup_name"), (3, 3, 3))
    no_default, dup_name = set(), set()
    for i, what in hits:
        if what == "none":
            counts[i] = 0
        elif what == "no_default":
            no_default.add(span[i])
        else:
            counts[i] = max(counts[i], 2)
            dup_name.add(span[i])
    covered = real("styles.csv").covered_parent
    for i, pid in enumerate(span):
        if pid > covered:
            break
        counts[i] = 0
    owners = [pid for pid, n in zip(span, counts) for _ in range(n)]
    return StyleShape(owners, counts, no_default, dup_name)


def photo_counts(job: Job, block: int, styles: int) -> list[int]:
    counts = stream(job.seed, "products", "n_photos", block).choices(PHOTO_COUNTS, cum_weights=PHOTO_CUM, k=styles)
    for i in hit_positions(stream(job.seed, "products", "photo-defects", block), job.rate, styles):
        counts[i] = 0
    return counts


@dataclass
class SkuShape:
    sizes: list[tuple[str, ...] | int | None]  # per style: its sizes, a shoe run length, or None: no skus
    counts: list[int]
    dup: set[int]  # style indexes whose last size repeats the previous one


def sku_shape(job: Job, block: int, shape: StyleShape) -> SkuShape:
    span = job.span(block)
    kinds = {pid: kind(c) for pid, c in zip(span, categories(job.seed, span.start, span.stop - 1))}
    n = len(shape.product_ids)
    runs = stream(job.seed, "products", "shoe-runs", block).choices(SHOE_RUNS, cum_weights=SHOE_CUM, k=n)
    hits, _ = _hits(job, ("products", "sku-defects", block), n, ("none", "dup"), (1, 2))
    bad = dict(hits)
    sizes: list = []
    counts: list[int] = []
    dup: set[int] = set()
    for i, pid in enumerate(shape.product_ids):
        what = bad.get(i)
        if what == "none":
            sizes.append(None)
            counts.append(0)
            continue
        k = kinds[pid]
        run = CLOTHING_SIZES if k == "clothing" else ONE_SIZE if k == "accessories" else runs[i]
        n_sizes = run if isinstance(run, int) else len(run)
        if what == "dup":
            dup.add(i)
            n_sizes = max(n_sizes, 2)
        sizes.append(run)
        counts.append(n_sizes)
    return SkuShape(sizes, counts, dup)


def feature_shape(job: Job, block: int) -> tuple[list[int], set[int]]:
    span = job.span(block)
    draws = stream(job.seed, "products", "n_features", block)
    counts = draws.choices(FEATURE_COUNTS, cum_weights=FEATURE_CUM, k=len(span))
    dup = set()
    for i in hit_positions(stream(job.seed, "products", "feature-defects", block), job.rate, len(span)):
        counts[i] = max(counts[i], 2)
        dup.add(span[i])
    _zero_covered(span, counts, real("features.csv").covered_parent)
    return counts, dup


def related_counts(job: Job, block: int) -> list[int]:
    span = job.span(block)
    draws = stream(job.seed, "products", "n_related", block)
    counts = draws.choices(RELATED_COUNTS, cum_weights=RELATED_CUM, k=len(span))
    _zero_covered(span, counts, real("related.csv").covered_parent)
    return counts


def _zero_covered(span: range, counts: list[int], covered: int) -> None:
    for i, pid in enumerate(span):
        if pid > covered:
            return
        counts[i] = 0


def block_counts(job: Job, block: int) -> dict[str, int]:
    """Generated rows of every file in a block (product.csv: all its rows)."""
    shape = style_shape(job, block)
    styles = len(shape.product_ids)
    return {
        "product.csv": len(job.span(block)),
        "features.csv": sum(feature_shape(job, block)[0]),
        "styles.csv": styles,
        "photos.csv": sum(photo_counts(job, block, styles)),
        "skus.csv": sum(sku_shape(job, block, shape).counts),
        "related.csv": sum(related_counts(job, block)),
    }


# ---------------------------------------------------------------- rendering one block of a file


@dataclass(frozen=True)
class Task:
    filename: str
    block: int
    first_id: int  # first generated id of the block in this file
    first_style: int  # first generated style id of the block


def _space(rng: Random, value: object) -> str:
    return f" {value}" if rng.random() < 0.5 else f"{value} "


def _swap(lines: list[str], positions: list[int], ids: Sequence[int] | None = None) -> None:
    for i in positions:
        if i + 1 < len(lines) and (ids is None or ids[i + 1] == ids[i] + 1):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]


def _lines(fmt: str, *columns: Iterable) -> list[str]:
    return list(map(fmt.__mod__, zip(*columns)))


def render_products(job: Job, task: Task) -> tuple[list[str], int]:
    block = task.block
    span = job.span(block)
    verbatim = {pid: line for pid, line in real_products(job.full).items() if pid in span}
    ids = [pid for pid in span if pid not in verbatim]
    n = len(ids)
    cats = categories(job.seed, span.start, span.stop - 1)
    price_of = prices(job, block)
    rng = stream(job.seed, "product.csv", block)
    firsts = rng.choices(PRODUCT_NAMES, k=n)
    prefixes = rng.choices(NAME_PREFIX, cum_weights=NAME_PREFIX_CUM, k=n)
    infixes = rng.choices(NAME_INFIX, cum_weights=NAME_INFIX_CUM, k=n)
    pool = sentences(job.seed)
    slogans = rng.choices(pool, k=n)
    lengths = rng.choices(DESCRIPTION_SENTENCES, k=n)
    picked = rng.choices(pool, k=sum(lengths))
    ends = list(accumulate(lengths))
    category = [cats[pid - span.start] for pid in ids]
    names = [quote(f"{p}{f}{z} {c}") for p, f, z, c in zip(prefixes, firsts, infixes, category)]
    descriptions = [quote(" ".join(picked[e - k:e])) for e, k in zip(ends, lengths)]
    default: list[int | str] = [price_of[pid - span.start] for pid in ids]
    # No invalid product rows: every product id must load, so that paging over the full data set
    # gives the legacy answer (/products?page=100002&count=10 is exactly product 1000011).
    hits, drng = _hits(job, ("product.csv", "defects", block), n, ("swap", "space"), (4, 3))
    for i, what in hits:
        if what == "space":
            default[i] = _space(drng, default[i])
    lines = _lines("%s,%s,%s,%s,%s,%s", ids, names, map(quote, slogans), descriptions, map(quote, category), default)
    _swap(lines, [i for i, what in hits if what == "swap"], ids)
    if verbatim:
        merged, gi = [], 0
        for pid in sorted(verbatim):
            while gi < n and ids[gi] < pid:
                merged.append(lines[gi])
                gi += 1
            merged.append(verbatim[pid])
        lines = merged + lines[gi:]
    return lines, len(lines)


def render_features(job: Job, task: Task) -> tuple[list[str], int]:
    span = job.span(task.block)
    counts, dup = feature_shape(job, task.block)
    rng = stream(job.seed, "features.csv", task.block)
    owners: list[int] = []
    names: list[str] = []
    values: list[str] = []
    indexes = range(len(FEATURE_NAMES))
    for pid, k in zip(span, counts):
        if not k:
            continue
        chosen = rng.sample(indexes, k)
        if pid in dup:
            chosen[-1] = chosen[0]
        owners.extend([pid] * k)
        for j in chosen:
            names.append(FEATURE_NAMES[j])
            options = FEATURE_VALUES[j]
            values.append(options[int(rng.random() * len(options))])
    n = len(owners)
    hits, drng = _hits(job, ("features.csv", "defects", task.block), n,
                       ("swap", "null", "orphan", "space"), (3, 3, 1, 1))
    product_col: list = owners
    for i, what in hits:
        if what == "null":
            values[i] = "null"
        elif what == "orphan":
            product_col[i] = job.products + 1 + drng.randrange(1000)
        elif what == "space":
            product_col[i] = _space(drng, product_col[i])
    lines = _lines("%s,%s,%s,%s", range(task.first_id, task.first_id + n), product_col, names, values)
    _swap(lines, [i for i, what in hits if what == "swap"])
    return _with_real(job, task, "features.csv", lines)


def render_styles(job: Job, task: Task) -> tuple[list[str], int]:
    span = job.span(task.block)
    shape = style_shape(job, task.block)
    price_of = prices(job, task.block)
    rng = stream(job.seed, "styles.csv", task.block)
    names: list[str] = []
    defaults: list[int] = []
    for pid, k in zip(span, shape.per_product):
        if not k:
            continue
        chosen = rng.sample(COLORS, k)
        if pid in shape.dup_name:
            chosen[-1] = chosen[0]
        names.extend(chosen)
        flags = [0] * k
        default_index = 0 if rng.random() < 0.85 else rng.randrange(k)
        if pid not in shape.no_default:
            flags[default_index] = 1
        defaults.extend(flags)
    n = len(names)
    original: list = [price_of[pid - span.start] for pid in shape.product_ids]
    sale: list = ["null"] * n
    for i in hit_positions(rng, SALE_SHARE, n):
        if original[i] >= 2:
            sale[i] = max(1, int(original[i] * rng.uniform(0.5, 0.95)))
    hits, drng = _hits(job, ("styles.csv", "defects", task.block), n,
                       ("swap", "space", "junk", "boolean"), (3, 2, 1, 1))
    for i, what in hits:
        if what == "space":
            original[i] = _space(drng, original[i])
        elif what == "junk":
            original[i] = f"{original[i]}x"
        elif what == "boolean":
            defaults[i] = 2
    lines = _lines("%s,%s,%s,%s,%s,%s", range(task.first_id, task.first_id + n), shape.product_ids,
                   names, sale, original, defaults)
    _swap(lines, [i for i, what in hits if what == "swap"])
    return _with_real(job, task, "styles.csv", lines)


def render_photos(job: Job, task: Task) -> tuple[list[str], int]:
    shape = style_shape(job, task.block)
    counts = photo_counts(job, task.block, len(shape.product_ids))
    styles = range(task.first_style, task.first_style + len(counts))
    owners: list = [sid for sid, k in zip(styles, counts) for _ in range(k)]
    n = len(owners)
    urls, thumbs = photo_urls()
    rng = stream(job.seed, "photos.csv", task.block)
    url_col = rng.choices(urls, k=n)
    thumb_col = rng.choices(thumbs, k=n)
    hits, drng = _hits(job, ("photos.csv", "defects", task.block), n,
                       ("swap", "unterminated", "orphan", "space"), (3, 6, 1, 1))
    for i, what in hits:
        if what == "unterminated":
            thumb_col[i] = thumb_col[i][:-1]
        elif what == "orphan":
            owners[i] = job.last_style + 1 + drng.randrange(1000)
        elif what == "space":
            owners[i] = _space(drng, owners[i])
    lines = _lines("%s,%s,%s,%s", range(task.first_id, task.first_id + n), owners, url_col, thumb_col)
    _swap(lines, [i for i, what in hits if what == "swap"])
    return _with_real(job, task, "photos.csv", lines)


def render_skus(job: Job, task: Task) -> tuple[list[str], int]:
    shape = style_shape(job, task.block)
    skus = sku_shape(job, task.block, shape)
    rng = stream(job.seed, "skus.csv", task.block)
    owners: list = []
    sizes: list[str] = []
    for i, (run, k) in enumerate(zip(skus.sizes, skus.counts)):
        if not k or run is None:
            continue
        if isinstance(run, int):
            start = rng.randrange(len(SHOE_SIZES) - run + 1)
            run = SHOE_SIZES[start:start + run]
        if i in skus.dup:
            run = run[:-1] + run[-2:-1] if len(run) >= 2 else run + run
        owners.extend([task.first_style + i] * k)
        sizes.extend(run)
    n = len(owners)
    quantities: list = rng.choices(QUANTITIES, k=n)
    hits, drng = _hits(job, ("skus.csv", "defects", task.block), n,
                       ("swap", "space", "orphan", "junk"), (4, 3, 1, 1))
    for i, what in hits:
        if what == "space":
            quantities[i] = _space(drng, quantities[i])
        elif what == "junk":
            quantities[i] = f"{quantities[i]}x"
        elif what == "orphan":
            owners[i] = job.last_style + 1 + drng.randrange(1000)
    lines = _lines("%s,%s,%s,%s", range(task.first_id, task.first_id + n), owners, sizes, quantities)
    _swap(lines, [i for i, what in hits if what == "swap"])
    return _with_real(job, task, "skus.csv", lines)


def render_related(job: Job, task: Task) -> tuple[list[str], int]:
    span = job.span(task.block)
    counts = related_counts(job, task.block)
    rng = stream(job.seed, "related.csv", task.block)
    everyone = range(1, job.products + 1)
    targets: list = rng.choices(everyone, k=sum(counts))
    owners: list[int] = []
    at = 0
    for pid, k in zip(span, counts):
        if not k:
            continue
        seen = {pid}
        for j in range(at, at + k):
            while targets[j] in seen:
                targets[j] = rng.randrange(1, job.products + 1)
            seen.add(targets[j])
        owners.extend([pid] * k)
        at += k
    n = len(owners)
    hits, drng = _hits(job, ("related.csv", "defects", task.block), n,
                       ("swap", "zero", "duplicate", "self", "space"), (2, 3, 3, 3, 1))
    for i, what in hits:
        if what == "zero":
            targets[i] = 0
        elif what == "self":
            targets[i] = owners[i]
        elif what == "duplicate":
            if i > 0 and owners[i - 1] == owners[i]:
                targets[i] = targets[i - 1]
            elif i + 1 < n and owners[i + 1] == owners[i]:
                targets[i] = targets[i + 1]
            else:
                targets[i] = owners[i]  # an only row cannot repeat a pair: a self reference
        elif what == "space":
            targets[i] = _space(drng, targets[i])
    lines = _lines("%s,%s,%s", range(task.first_id, task.first_id + n), owners, targets)
    _swap(lines, [i for i, what in hits if what == "swap"])
    return _with_real(job, task, "related.csv", lines)


def _with_real(job: Job, task: Task, filename: str, lines: list[str]) -> tuple[list[str], int]:
    if task.block == 0:
        lines = list(real(filename).lines) + lines
    return lines, len(lines)


RENDER: dict[str, Callable[[Job, Task], tuple[list[str], int]]] = {
    "product.csv": render_products,
    "features.csv": render_features,
    "styles.csv": render_styles,
    "photos.csv": render_photos,
    "skus.csv": render_skus,
    "related.csv": render_related,
}


def render(job: Job, task: Task) -> tuple[str, int]:
    """One block of one file as text (LF line endings, trailing newline) and its row count."""
    lines, rows = RENDER[task.filename](job, task)
    return ("\n".join(lines) + "\n" if lines else ""), rows


# ---------------------------------------------------------------- planning and writing


@dataclass(frozen=True)
class Plan:
    job: Job
    tasks: dict[str, list[Task]]
    totals: dict[str, int]


def plan(job: Job, run: Callable[[Callable, list], Iterator]) -> Plan:
    """Counts every block's rows (first pass) and gives each block its first ids."""
    counts = list(run(_count, [(job, b) for b in range(job.blocks)]))
    tasks: dict[str, list[Task]] = {}
    totals: dict[str, int] = {}
    style_starts = _starts(real("styles.csv").next_id, [c["styles.csv"] for c in counts])
    for filename in FILES:
        generated = [c[filename] for c in counts]
        if filename == "product.csv":
            starts = [job.span(b).start for b in range(job.blocks)]
            totals[filename] = sum(generated)
        else:
            starts = _starts(real(filename).next_id, generated)
            totals[filename] = sum(generated) + len(real(filename).lines)
        tasks[filename] = [Task(filename, b, starts[b], style_starts[b]) for b in range(job.blocks)]
    last_style = style_starts[-1] + counts[-1]["styles.csv"] - 1
    job = Job(job.seed, job.products, job.rate, job.full, last_style)
    return Plan(job, tasks, totals)


def _starts(first: int, sizes: list[int]) -> list[int]:
    return [first + before for before in accumulate([0] + sizes[:-1])]


def _count(args: tuple[Job, int]) -> dict[str, int]:
    return block_counts(*args)


def _render(args: tuple[Job, Task]) -> tuple[str, int]:
    return render(*args)


def generate(options: GenerateOptions, workers: int | None = None) -> list[Path]:
    """Writes the six products-side files into options.out; returns the paths written."""
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    job = Job(options.seed, options.products, options.defect_rate, options.full)
    workers = workers or min(2, os.cpu_count() or 1)
    with Workers(workers if job.blocks >= 4 else 1) as pool:
        the_plan = plan(job, pool.map)
        paths = [write_file(out / name, the_plan, name, pool.map, options) for name in FILES]
    if options.bom_crlf:
        paths += [write_bom_crlf_copy(path, out) for path in paths]
    return paths


def write_file(path: Path, the_plan: Plan, filename: str, run: Callable, options: GenerateOptions) -> Path:
    progress = options.progress
    progress.start(filename, the_plan.totals[filename])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADERS[filename] + "\n")
        for text, rows in run(_render, [(the_plan.job, task) for task in the_plan.tasks[filename]]):
            fh.write(text)
            progress.advance(rows)
    progress.finish()
    return path


if __name__ == "__main__":  # measurement runner: python -m atelier.products.generate OUT SCALE [WORKERS]
    from ..core.generating import Progress

    target, scale = Path(sys.argv[1]), float(sys.argv[2])
    started = time.monotonic()
    written = generate(GenerateOptions(out=target, scale=scale, progress=Progress()),
                       workers=int(sys.argv[3]) if len(sys.argv) > 3 else None)
    elapsed = time.monotonic() - started
    total = sum(sum(1 for _ in open(p, "rb")) - 1 for p in written)
    print(f"{total:,} rows in {elapsed:.1f}s: {total / elapsed:,.0f} rows/s")
