"""Synthetic legacy reviews-side files: reviews.csv, reviews_photos.csv, characteristics.csv and
characteristic_reviews.csv (legacy-csv.md).

Real rows: the sample's rows are written verbatim at their ids: reviews 1-15, photos 1-20,
characteristics 1-20 and characteristic reviews 1-19 always; at full scale also the tail
(characteristics 3,347,660-3,347,679 of products 1,000,007-1,000,011, reviews 5,774,934-5,774,952
of products 1,000,009-1,000,011, photos 2,742,519-2,742,540, characteristic reviews
19,327,548-19,327,575). Head rows the sample lacks are filled to agree with api.md:
characteristic 21 is product 6's `Quality`; characteristic reviews 20-25 are review 9 -> 12: 4,
13: 5 and review 10 -> 10..13: 5, so product 4 averages 11/3 on each of characteristics 10-13;
reviews 11-15 (and, at full scale, the sample's tail reviews 5,774,934-5,774,945) rate every
characteristic of their product; generated reviews 16-34 and 5,774,897-5,774,933 get no photos
(the sample's photos are theirs). Products 1-11 have exactly the sample's reviews (3, 6, 8-11
none); product 12 starts with review 15.

Exact sizes: each file's last id is a fixed line through the head and tail anchors (last
characteristic id of products <= p, last review id of products <= p, last photo and last
characteristic review id of reviews <= r). Every block of products gets exactly its share of
each line, so blocks are independent (any process can render any block) and full scale lands
on the spec's row counts and the sample's tail ids. A block that cannot fill its share (tiny
blocks only) leaves a gap in the ids; it never overlaps the next block.

Shape: reviews per product 5.77 on average, drawn as a multinomial over skewed weights (a
quarter of products weigh 0, the rest lognormal, accessories half): about a third of products
have no review, a few have hundreds; the last product always has one (it owns the last review).
Ratings 1-5, dates uniform in 2020-05-01..2021-04-30 (epoch ms), recommend 78% `true`, reported
3% `true`, helpfulness 0-30, response 90% `null`. Characteristics per product 3.35: the plan's
names (`plan.category`), with one or two names (never `Quality`) dropped on some clothing and
shoe products to reach the spec's total. Characteristic reviews: one per (review x
characteristic of its product), except that some generated reviews (about one in seven) rate
only 1-3 of them; values 1-5. Photos per review 0.47 (0-5), unsplash urls like the sample's.

Defects: `defect_rate` is the share of generated rows that get one defect (sample rows, the
filled head rows and the generated reviews that own sample photos never do; 0 turns them off).
Per file, with their weights:
  every file:
    swap        *  the row and the next generated row are written in swapped order (ids
                   `8` then `7`). Valid.
    whitespace  *  one numeric field gets a space before, after, or both (` 4`, `4 `, ` 4 `,
                   unquoted). Valid after stripping. Fields: reviews id, product_id, rating,
                   date, helpfulness; photos id, review_id; characteristics id, product_id;
                   characteristic reviews any of the four.
  reviews.csv (swap 35, whitespace 35)
    orphan     15  product_id is `0` or a product past the last one (last + 1..1000).
    junk       10  rating or helpfulness is its digits followed by `x` (`4x`).
    boolean     5  recommend or reported is `yes` or `no`.
    A review with one of these three has no photos and no characteristic reviews, so
    rejecting it orphans nothing else.
  reviews_photos.csv (swap 40, whitespace 35)
    orphan     15  review_id is `0` or a review past the last one (last + 1..1000).
    junk       10  review_id is its digits followed by `x`.
  characteristics.csv (swap 50, whitespace 50): no invalid rows.
  characteristic_reviews.csv (swap 35, whitespace 35)
    orphan     20  half: review_id is `0` or past the last review; half: characteristic_id
                   is `0` or past the last characteristic (last + 1..1000).
    junk       10  value is its digit followed by `x` (`4x`).
So a loader rejects exactly the orphan, junk and boolean rows, about 0.3 * defect_rate of rows.

Blocks: products are cut into blocks of 5,000 ids (the last block takes the rest). Each block's
rows come from random streams named by (seed, file part, block's first product), so the files
are byte-identical whatever the number of worker processes.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from ..core import fake
from ..core.generating import (
    FULL_PRODUCTS,
    GenerateOptions,
    hit_positions,
    legacy_id,
    legacy_lines,
    stream,
    write_bom_crlf_copy,
)
from ..core.tables import csv_headers
from ..core.workers import Workers
from ..products.plan import CHARACTERISTICS, categories, kind
from .tables import LEGACY

HEADERS = csv_headers(LEGACY)
FILES = tuple(HEADERS)
BLOCK = 5000

# ---------------------------------------------------------------- the real rows

# Head rows the sample lacks, chosen to agree with api.md (see the module docstring).
FILLED_HEAD = {
    "characteristics.csv": ['21,6,"Quality"'],
    "characteristic_reviews.csv": ["20,12,9,4", "21,13,9,5", "22,10,10,5", "23,11,10,5", "24,12,10,5",
                                   "25,13,10,5"],
}
TAIL_IDS = 1000  # sample ids below this are head rows, the others tail rows


def _real(filename: str) -> tuple[list[str], list[str]]:
    lines = legacy_lines(filename)
    head = [line for line in lines if legacy_id(line) < TAIL_IDS] + FILLED_HEAD.get(filename, [])
    return head, [line for line in lines if legacy_id(line) >= TAIL_IDS]


REAL = {name: _real(name) for name in FILES}


def _field(line: str, index: int) -> int:
    return int(line.split(",", index + 1)[index])


def _chars_by_product(lines: list[str]) -> dict[int, tuple[int, tuple[str, ...]]]:
    """product -> (first characteristic id, names), from sample lines (ids contiguous per product)."""
    out: dict[int, tuple[int, tuple[str, ...]]] = {}
    for line in lines:
        cid, pid, name = line.split(",", 2)
        first, names = out.get(int(pid), (int(cid), ()))
        out[int(pid)] = (first, names + (name.strip('"'),))
    return out


HEAD_CHARS = _chars_by_product(REAL["characteristics.csv"][0])  # products 1-6
TAIL_CHARS = _chars_by_product(REAL["characteristics.csv"][1])  # products 1,000,007-1,000,011
HEAD_REVIEW_PRODUCTS = [_field(line, 1) for line in REAL["reviews.csv"][0]]  # reviews 1-15
TAIL_REVIEW_PRODUCTS = [_field(line, 1) for line in REAL["reviews.csv"][1]]  # reviews 5,774,934-5,774,952
FIRST_GENERATED_REVIEW_PRODUCT = 12  # products 1-11 have exactly the sample's reviews; 12 starts with review 15
LAST_HANDMADE_REVIEW = 15  # reviews up to this one rate every characteristic
# generated reviews that own sample photos (16-34, 5,774,897-5,774,933) never get a defect
PHOTOGRAPHED = frozenset(_field(line, 1) for part in REAL["reviews_photos.csv"] for line in part)


@dataclass(frozen=True)
class Line:
    """y = round(y0 + (x - x0) * slope), exact at both ends: the last id of a file at x."""

    x0: int
    y0: int
    x1: int
    y1: int

    def __call__(self, x: int) -> int:
        dx = self.x1 - self.x0
        return self.y0 + (2 * (x - self.x0) * (self.y1 - self.y0) + dx) // (2 * dx)


# Anchors: the head rows above, and the last generated ids before the sample's tail rows.
CHAR_LINE = Line(6, 21, 1_000_006, 3_347_659)  # last characteristic id of products <= p
REVIEW_LINE = Line(11, 14, 1_000_008, 5_774_933)  # last review id of products <= p
PHOTO_LINE = Line(34, 20, 5_774_896, 2_742_518)  # last photo id of reviews <= r
CHAR_REVIEW_LINE = Line(10, 25, 5_774_945, 19_327_547)  # last characteristic review id of reviews <= r


# ---------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    seed: int
    products: int
    full: bool
    rate: float

    @classmethod
    def of(cls, options: GenerateOptions) -> Layout:
        products = FULL_PRODUCTS if options.full else options.products
        return cls(options.seed, products, options.full, options.defect_rate)

    def blocks(self) -> list[tuple[int, int]]:
        count = max(1, self.products // BLOCK)
        return [(i * BLOCK + 1, (i + 1) * BLOCK if i < count - 1 else self.products) for i in range(count)]

    # last generated product / review of each kind of row (the sample's tail follows at full scale)
    @property
    def last_char_product(self) -> int:
        return CHAR_LINE.x1 if self.full else self.products

    @property
    def last_review_product(self) -> int:
        return REVIEW_LINE.x1 if self.full else self.products

    @property
    def last_photo_review(self) -> int:
        return PHOTO_LINE.x1 if self.full else self.review_end(self.products)

    @property
    def last_rated_review(self) -> int:
        return CHAR_REVIEW_LINE.x1 if self.full else self.review_end(self.products)

    def char_end(self, p: int) -> int:
        """Last characteristic id of products <= p (p is 0 or past the head)."""
        if p <= CHAR_LINE.x0:
            return 0 if p <= 0 else CHAR_LINE.y0
        if self.full and p > CHAR_LINE.x1:
            return CHAR_LINE.y1 + sum(len(names) for q, (_, names) in TAIL_CHARS.items() if q <= p)
        return CHAR_LINE(p)

    def review_end(self, p: int) -> int:
        if p <= REVIEW_LINE.x0:
            return 0 if p <= 0 else REVIEW_LINE.y0
        if self.full and p > REVIEW_LINE.x1:
            return REVIEW_LINE.y1 + sum(1 for q in TAIL_REVIEW_PRODUCTS if q <= p)
        return REVIEW_LINE(p)

    def photo_end(self, r: int) -> int:
        if r <= PHOTO_LINE.x0:
            return 0 if r <= 0 else PHOTO_LINE.y0
        if self.full and r > PHOTO_LINE.x1:
            return PHOTO_LINE.y1 + sum(1 for line in REAL["reviews_photos.csv"][1] if _field(line, 1) <= r)
        return PHOTO_LINE(r)

    def char_review_end(self, r: int) -> int:
        if r <= CHAR_REVIEW_LINE.x0:
            return 0 if r <= 0 else CHAR_REVIEW_LINE.y0
        if self.full and r > CHAR_REVIEW_LINE.x1:
            tail = REAL["characteristic_reviews.csv"][1]
            return CHAR_REVIEW_LINE.y1 + sum(1 for line in tail if _field(line, 2) <= r)
        return CHAR_REVIEW_LINE(r)

    def total(self, filename: str) -> int:
        reviews = self.review_end(self.products)
        return {
            "reviews.csv": reviews,
            "reviews_photos.csv": self.photo_end(reviews),
            "characteristics.csv": self.char_end(self.products),
            "characteristic_reviews.csv": self.char_review_end(reviews),
        }[filename]


# ---------------------------------------------------------------- counting helpers


def _spread(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """`total` items over len(weights) bins, multinomially."""
    n = len(weights)
    counts = [0] * n
    if n == 0 or total <= 0:
        return counts
    cum = list(accumulate(weights))
    if cum[-1] <= 0:
        cum = list(range(1, n + 1))
    for i in rng.choices(range(n), cum_weights=cum, k=total):
        counts[i] += 1
    return counts


def _fit_down(counts: list[int], lows: list[int], target: int, rng: random.Random) -> None:
    """Takes one from random bins above their low until the counts sum to target (or cannot)."""
    excess = sum(counts) - target
    if excess <= 0:
        return
    eligible = [i for i, (c, low) in enumerate(zip(counts, lows)) if c > low]
    while excess > 0 and eligible:
        j = rng.randrange(len(eligible))
        i = eligible[j]
        counts[i] -= 1
        excess -= 1
        if counts[i] <= lows[i]:
            eligible[j] = eligible[-1]
            eligible.pop()


def _raise_to_lows(counts: list[int], lows: list[int], rng: random.Random) -> None:
    """Brings bins up to their low, taking the same number from other bins (sum unchanged)."""
    total = sum(counts)
    for i, low in enumerate(lows):
        counts[i] = max(counts[i], low)
    _fit_down(counts, lows, total, rng)


def _cap(counts: list[int], high: int, rng: random.Random) -> None:
    """Moves the items above `high` to random bins below it (sum unchanged)."""
    extra = sum(c - high for c in counts if c > high)
    if not extra:
        return
    counts[:] = [min(c, high) for c in counts]
    while extra > 0 and any(c < high for c in counts):
        i = rng.randrange(len(counts))
        if counts[i] < high:
            counts[i] += 1
            extra -= 1


# ---------------------------------------------------------------- the shape of a block


ZERO_REVIEW_SHARE = 0.25
REVIEW_SIGMA = 1.0
ACCESSORY_REVIEW_FACTOR = 0.5  # fewer reviews for one-characteristic products: leaves room for "rate fewer"


def characteristics_of(layout: Layout, first: int, last: int, cats: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    """(first characteristic id, names) of every product first..last."""
    out = [HEAD_CHARS[p] for p in range(first, min(last, CHAR_LINE.x0) + 1)]
    g0, g1 = max(first, CHAR_LINE.x0 + 1), min(last, layout.last_char_product)
    if g0 <= g1:
        natural = [CHARACTERISTICS[kind(c)] for c in cats[g0 - first:g1 - first + 1]]
        counts = [len(names) for names in natural]
        lows = [1 if c == 1 else 2 for c in counts]
        rng = stream(layout.seed, "reviews", "characteristics", first)
        next_id = layout.char_end(g0 - 1) + 1
        _fit_down(counts, lows, layout.char_end(g1) - next_id + 1, rng)
        for names, count in zip(natural, counts):
            if count < len(names):  # keep Quality (last) and count-1 of the others, in order
                keep = sorted(rng.sample(range(len(names) - 1), count - 1))
                names = tuple(names[i] for i in keep) + (names[-1],)
            out.append((next_id, names))
            next_id += count
    if layout.full:
        out += [TAIL_CHARS[p] for p in range(max(first, CHAR_LINE.x1 + 1), last + 1)]
    return out


REVIEW_DEFECTS = ("swap", "space", "orphan", "junk", "boolean")
REVIEW_DEFECT_WEIGHTS = (35, 35, 15, 10, 5)
INVALID = frozenset(("orphan", "junk", "boolean"))


@dataclass
class Reviews:
    """The reviews of a block: ids first.., the product of each, sample rows and defects."""

    first: int
    products: list[int]
    head: int  # leading sample rows (first block only)
    tail: int  # trailing sample rows (last block at full scale only)
    defects: dict[int, str]  # index -> defect kind (generated rows only)

    @property
    def last(self) -> int:
        return self.first + len(self.products) - 1

    def valid(self, index: int) -> bool:
        return self.defects.get(index) not in INVALID

    def is_real(self, index: int) -> bool:
        return index < self.head or index >= len(self.products) - self.tail


def reviews_of(layout: Layout, first: int, last: int, cats: list[str]) -> Reviews:
    head = len(HEAD_REVIEW_PRODUCTS) if first == 1 else 0
    products = [p for p in HEAD_REVIEW_PRODUCTS if p < FIRST_GENERATED_REVIEW_PRODUCT] if head else []
    g0, g1 = max(first, FIRST_GENERATED_REVIEW_PRODUCT), min(last, layout.last_review_product)
    if g0 <= g1:
        rng = stream(layout.seed, "reviews", "counts", first)
        weights = []
        for c in cats[g0 - first:g1 - first + 1]:
            if rng.random() < ZERO_REVIEW_SHARE:
                weights.append(0.0)
            else:
                factor = ACCESSORY_REVIEW_FACTOR if kind(c) == "accessories" else 1.0
                weights.append(rng.lognormvariate(0.0, REVIEW_SIGMA) * factor)
        counts = _spread(layout.review_end(g1) - layout.review_end(g0 - 1), weights, rng)
        lows = [0] * len(counts)
        if g0 == FIRST_GENERATED_REVIEW_PRODUCT:
            lows[0] = 1  # product 12 owns the sample's review 15
        if g1 == layout.products:
            lows[-1] = 1  # the last product owns the last review
        _raise_to_lows(counts, lows, rng)
        for p, count in zip(range(g0, g1 + 1), counts):
            products += [p] * count
    tail = 0
    if layout.full and last == layout.products:
        products += TAIL_REVIEW_PRODUCTS
        tail = len(TAIL_REVIEW_PRODUCTS)
    end = len(products) - tail
    if not layout.full and last == layout.products:
        end -= 1  # the last review stays the last product's
    rng = stream(layout.seed, "reviews", "review-defects", first)
    hits = hit_positions(rng, layout.rate, end - head)
    kinds = rng.choices(REVIEW_DEFECTS, REVIEW_DEFECT_WEIGHTS, k=len(hits))
    first_id = layout.review_end(first - 1) + 1
    return Reviews(first_id, products, head, tail,
                   {head + i: k for i, k in zip(hits, kinds) if first_id + head + i not in PHOTOGRAPHED})


# ---------------------------------------------------------------- text pools

DATE_FIRST = 1_588_291_200_000  # 2020-05-01T00:00:00Z
DATE_SPAN = 1_619_827_200_000 - DATE_FIRST  # until 2021-05-01T00:00:00Z
RATINGS = ("1", "2", "3", "4", "5")
RATING_CUM = (12, 25, 45, 70, 100)
BODY_SENTENCES = (2, 3, 3, 4, 4, 5, 5, 6)
HELPFULNESS = tuple(str(i) for i in range(31))
RECOMMEND_CUM = (78, 100)
REPORTED_CUM = (97, 100)
RESPONSE_SHARE = 0.10
PHOTO_WIDTHS = (668, 975, 1650, 3028, 1652, 662, 1526, 2775, 1567, 988, 666, 962, 1536, 2384, 1651, 1563)
MAX_PHOTOS = 5


@dataclass(frozen=True)
class Pools:
    summaries: list[str]
    sentences: list[str]  # already CSV-escaped (quotes doubled)
    names: list[str]
    emails: list[str]
    responses: list[str]  # `null` or a quoted sentence
    response_cum: list[float]
    urls: list[str]


def _flourish(rng: random.Random, text: str) -> str:
    """Now and then the punctuation of the real text: commas, apostrophes, `#`, `!!!!?`, quotes."""
    roll = rng.random()
    words = text[:-1].split(" ")
    if roll < 0.08 and len(words) > 2:
        i = rng.randrange(1, len(words) - 1)
        words[i] += ","
    elif roll < 0.09:
        return text[:-1] + "!!!!?"
    elif roll < 0.10:
        return "It's " + text[0].lower() + text[1:]
    elif roll < 0.105:
        return text[:-1] + f" #{rng.randint(1, 9)}."
    elif roll < 0.11 and len(words) > 1:
        i = rng.randrange(1, len(words))
        words[i] = '"' + words[i] + '"'
    return " ".join(words) + "."


def _url(rng: random.Random) -> str:
    stamp = rng.randint(1_400_000_000_000, 1_575_000_000_000) if rng.random() < 0.7 else rng.randint(
        1_440_000_000, 1_575_000_000)
    ixid = "&ixid=eyJhcHBfaWQiOjEyMDd9" if rng.random() < 0.7 else ""
    return (f"https://images.unsplash.com/photo-{stamp}-{rng.getrandbits(48):012x}?ixlib=rb-1.2.1{ixid}"
            f"&auto=format&fit=crop&w={rng.choice(PHOTO_WIDTHS)}&q=80")


_POOLS: dict[int, Pools] = {}


def pools(seed: int) -> Pools:
    """Text pieces for one seed, built once per process."""
    if seed not in _POOLS:
        rng = stream(seed, "reviews", "pools")
        summaries = [_flourish(rng, fake.sentence(rng, 3, 10)).replace('"', '""') for _ in range(8192)]
        sentences = [_flourish(rng, fake.sentence(rng, 3, 12)).replace('"', '""') for _ in range(32768)]
        names = [fake.username(rng) for _ in range(50000)]
        emails = [fake.email(rng) for _ in range(50000)]
        answers = ['"' + fake.sentence(rng, 4, 12) + '"' for _ in range(2048)]
        sample_urls = [line.split(",", 2)[2].strip('"') for line in legacy_lines("reviews_photos.csv")]
        urls = sorted(set(sample_urls)) + [_url(rng) for _ in range(4096)]
        cum = [1.0 - RESPONSE_SHARE] + [1.0 - RESPONSE_SHARE + RESPONSE_SHARE * (i + 1) / len(answers)
                                        for i in range(len(answers))]
        _POOLS[seed] = Pools(summaries, sentences, names, emails, ["null"] + answers, cum, urls)
    return _POOLS[seed]


# ---------------------------------------------------------------- defects


def _spaced(rng: random.Random, value: object) -> str:
    return rng.choice((" %s", "%s ", " %s ")) % (value,)


def _missing(rng: random.Random, last_id: int) -> str:
    return "0" if rng.random() < 0.5 else str(last_id + rng.randint(1, 1000))


def _render_rows(fmt: str, rows: list[tuple], defects: list[tuple[int, str]], rng: random.Random,
                 mutate: Callable[[str, list, random.Random], None]) -> list[str]:
    """Formats rows, applying each (index, kind) defect: `swap` swaps a line with the next one,
    the other kinds are field changes made by `mutate(kind, fields, rng)`."""
    swaps = []
    for i, kind_ in defects:
        if kind_ == "swap":
            swaps.append(i)
        else:
            fields = list(rows[i])
            mutate(kind_, fields, rng)
            rows[i] = tuple(fields)
    lines = list(map(fmt.__mod__, rows))
    for i in swaps:
        if i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    return lines


def _row_defects(layout: Layout, rng: random.Random, n: int, kinds: tuple[str, ...],
                 weights: tuple[int, ...]) -> list[tuple[int, str]]:
    hits = hit_positions(rng, layout.rate, n)
    return list(zip(hits, rng.choices(kinds, weights, k=len(hits))))


# ---------------------------------------------------------------- rendering one block of one file

REVIEW_FMT = '%s,%s,%s,%s,"%s","%s",%s,%s,"%s","%s",%s,%s'


def render_reviews(layout: Layout, first: int, last: int) -> list[str]:
    cats = categories(layout.seed, first, last)
    block = reviews_of(layout, first, last, cats)
    p = pools(layout.seed)
    rng = stream(layout.seed, "reviews", "text", first)
    start, end = block.head, len(block.products) - block.tail
    n = end - start
    choices, rand = rng.choices, rng.random
    ids = range(block.first + start, block.first + end)
    dates = [DATE_FIRST + int(rand() * DATE_SPAN) for _ in range(n)]
    bodies = [" ".join(choices(p.sentences, k=k)) for k in choices(BODY_SENTENCES, k=n)]
    rows = list(zip(
        ids, block.products[start:end], choices(RATINGS, cum_weights=RATING_CUM, k=n), dates,
        choices(p.summaries, k=n), bodies, choices(("true", "false"), cum_weights=RECOMMEND_CUM, k=n),
        choices(("false", "true"), cum_weights=REPORTED_CUM, k=n), choices(p.names, k=n),
        choices(p.emails, k=n), choices(p.responses, cum_weights=p.response_cum, k=n),
        choices(HELPFULNESS, k=n)))
    last_product = layout.products

    def mutate(kind_: str, f: list, rng: random.Random) -> None:
        if kind_ == "space":
            i = rng.choice((0, 1, 2, 3, 11))
            f[i] = _spaced(rng, f[i])
        elif kind_ == "orphan":
            f[1] = _missing(rng, last_product)
        elif kind_ == "junk":
            i = rng.choice((2, 11))
            f[i] = f"{f[i]}x"
        elif kind_ == "boolean":
            f[rng.choice((6, 7))] = rng.choice(("yes", "no"))

    defects = [(i - start, k) for i, k in block.defects.items()]
    lines = _render_rows(REVIEW_FMT, rows, defects, rng, mutate)
    return _with_real("reviews.csv", block.head > 0, block.tail > 0, lines)


def render_photos(layout: Layout, first: int, last: int) -> list[str]:
    cats = categories(layout.seed, first, last)
    block = reviews_of(layout, first, last, cats)
    rng = stream(layout.seed, "reviews", "photos", first)
    low, high = PHOTO_LINE.x0 + 1, layout.last_photo_review
    eligible = [block.first + i for i in range(len(block.products))
                if low <= block.first + i <= high and block.valid(i)]
    before, upto = max(block.first - 1, PHOTO_LINE.x0), min(block.last, high)
    next_id = layout.photo_end(before) + 1
    target = layout.photo_end(upto) - next_id + 1 if upto > before else 0
    counts = _spread(target, [1.0] * len(eligible), rng)
    _cap(counts, MAX_PHOTOS, rng)
    review_ids = [rid for rid, c in zip(eligible, counts) for _ in range(c)]
    rows = list(zip(range(next_id, next_id + len(review_ids)), review_ids,
                    rng.choices(pools(layout.seed).urls, k=len(review_ids))))
    last_review = layout.total("reviews.csv")

    def mutate(kind_: str, f: list, rng: random.Random) -> None:
        if kind_ == "space":
            i = rng.choice((0, 1))
            f[i] = _spaced(rng, f[i])
        elif kind_ == "orphan":
            f[1] = _missing(rng, last_review)
        elif kind_ == "junk":
            f[1] = f"{f[1]}x"

    defects = _row_defects(layout, rng, len(rows), ("swap", "space", "orphan", "junk"), (40, 35, 15, 10))
    lines = _render_rows('%s,%s,"%s"', rows, defects, rng, mutate)
    return _with_real("reviews_photos.csv", first == 1, layout.full and last == layout.products, lines)


def render_characteristics(layout: Layout, first: int, last: int) -> list[str]:
    cats = categories(layout.seed, first, last)
    chars = characteristics_of(layout, first, last, cats)
    g0, g1 = max(first, CHAR_LINE.x0 + 1), min(last, layout.last_char_product)
    rows = [(cid + j, p, name) for p in range(g0, g1 + 1)
            for cid, names in (chars[p - first],) for j, name in enumerate(names)]
    rng = stream(layout.seed, "reviews", "characteristic-rows", first)

    def mutate(kind_: str, f: list, rng: random.Random) -> None:
        i = rng.choice((0, 1))
        f[i] = _spaced(rng, f[i])

    defects = _row_defects(layout, rng, len(rows), ("swap", "space"), (50, 50))
    lines = _render_rows('%s,%s,"%s"', rows, defects, rng, mutate)
    return _with_real("characteristics.csv", first == 1, layout.full and last == layout.products, lines)


VALUES = ("1", "2", "3", "4", "5")


def render_characteristic_reviews(layout: Layout, first: int, last: int) -> list[str]:
    cats = categories(layout.seed, first, last)
    chars = characteristics_of(layout, first, last, cats)
    block = reviews_of(layout, first, last, cats)
    rng = stream(layout.seed, "reviews", "ratings", first)
    low_id, high_id = CHAR_REVIEW_LINE.x0 + 1, layout.last_rated_review
    rated: list[tuple[int, int, int]] = []  # (review id, first characteristic id, number of characteristics)
    counts: list[int] = []
    lows: list[int] = []
    for i, p in enumerate(block.products):
        rid = block.first + i
        if low_id <= rid <= high_id and block.valid(i):
            cid, names = chars[p - first]
            rated.append((rid, cid, len(names)))
            counts.append(len(names))
            lows.append(len(names) if block.is_real(i) or rid <= LAST_HANDMADE_REVIEW else 1)
    before, upto = max(block.first - 1, CHAR_REVIEW_LINE.x0), min(block.last, high_id)
    next_id = layout.char_review_end(before) + 1
    _fit_down(counts, lows, layout.char_review_end(upto) - next_id + 1 if upto > before else 0, rng)
    pairs: list[tuple[int, int]] = []
    append = pairs.append
    for (rid, cid, n), count in zip(rated, counts):
        if count == n:
            for c in range(cid, cid + n):
                append((c, rid))
        else:
            for j in sorted(rng.sample(range(n), count)):
                append((cid + j, rid))
    values = rng.choices(VALUES, k=len(pairs))
    rows = [(next_id + i, c, r, v) for i, ((c, r), v) in enumerate(zip(pairs, values))]
    last_review, last_char = layout.total("reviews.csv"), layout.total("characteristics.csv")

    def mutate(kind_: str, f: list, rng: random.Random) -> None:
        if kind_ == "space":
            i = rng.randrange(4)
            f[i] = _spaced(rng, f[i])
        elif kind_ == "orphan":
            if rng.random() < 0.5:
                f[2] = _missing(rng, last_review)
            else:
                f[1] = _missing(rng, last_char)
        elif kind_ == "junk":
            f[3] = f"{f[3]}x"

    defects = _row_defects(layout, rng, len(rows), ("swap", "space", "orphan", "junk"), (35, 35, 20, 10))
    lines = _render_rows("%s,%s,%s,%s", rows, defects, rng, mutate)
    return _with_real("characteristic_reviews.csv", first == 1, layout.full and last == layout.products, lines)


def _with_real(filename: str, head: bool, tail: bool, lines: list[str]) -> list[str]:
    real_head, real_tail = REAL[filename]
    return (real_head if head else []) + lines + (real_tail if tail else [])


RENDER: dict[str, Callable[[Layout, int, int], list[str]]] = {
    "reviews.csv": render_reviews,
    "reviews_photos.csv": render_photos,
    "characteristics.csv": render_characteristics,
    "characteristic_reviews.csv": render_characteristic_reviews,
}


def render(task: tuple[str, Layout, int, int]) -> tuple[bytes, int]:
    """One block of one file as UTF-8 bytes (LF line endings, trailing newline) and its row count."""
    filename, layout, first, last = task
    lines = RENDER[filename](layout, first, last)
    return ("\n".join(lines) + "\n" if lines else "").encode(), len(lines)


# ---------------------------------------------------------------- writing


def generate(options: GenerateOptions, workers: int | None = None) -> list[Path]:
    """Writes the four reviews-side files into options.out; returns the paths written (the
    BOM+CRLF copies last, when asked for)."""
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    layout = Layout.of(options)
    blocks = layout.blocks()
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    with Workers(workers if len(blocks) > 1 else 1) as pool:
        paths = []
        for filename in FILES:
            tasks = [(filename, layout, first, last) for first, last in blocks]
            paths.append(_write(out / filename, filename, layout.total(filename), pool.map(render, tasks), options))
    if options.bom_crlf:
        paths += [write_bom_crlf_copy(path, out) for path in paths]
    return paths


def _write(path: Path, filename: str, total: int, results: Iterator[tuple[bytes, int]],
           options: GenerateOptions) -> Path:
    progress = options.progress
    progress.start(filename, total)
    with open(path, "wb") as fh:
        fh.write((HEADERS[filename] + "\n").encode())
        for data, rows in results:
            fh.write(data)
            progress.advance(rows)
    progress.finish()
    return path
