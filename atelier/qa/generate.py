"""Synthetic legacy Q&A files: questions.csv, answers.csv and answers_photos.csv (legacy-csv.md).

Sizes: 3,518,963 questions, 6,879,306 answers and 2,063,759 answer photos at full scale, scaled
by the product count (exact totals: `round(full_total * products / 1,000,011)`).

Rows: the real questions 1-9 (products 1 and 2, which get no other question) are written
verbatim; their answers are hand-written (`SCRIPTED_ANSWERS`, some by `Seller`), scattered among
the first 200 answers. Generated questions are ~3.5 per product, skewed (about 40% of the
products have none, a few have about a hundred), in product order. Answers are ~1.95 per
question and are *not grouped*: answer ids ascend, but consecutive answers belong to scattered
questions of the same block of products (~4,096 products, ~14,000 questions). Photos (~0.3 per
answer, at most 5 per answer) are in answer order. About 6% of answers are by `Seller`; 0.5% of
questions and answers are reported; `helpful` is 0..30, skewed low. Dates are epoch ms:
questions 2018-01..2021-09, each answer after its question and no later than 2021-12-31.

Blocks: the products are cut into blocks; a block's row counts are a closed-form share of the
totals, so each block knows its first ids and is built alone from its own random streams, in
any worker process: the files are byte-identical whatever the number of workers.

Defects: `defect_rate` is the share of generated rows that get exactly one defect (the real
questions 1-9 and the first 200 answers never do; 0 turns defects off). Forms, with their weights:

questions.csv (`id,product_id,body,date_written,asker_name,asker_email,reported,helpful`)
  product0    3  `product_id` is `0`: a question of a product that does not exist.
  whitespace  3  one space before, after, or on both sides of the value of `product_id` or of
                 `helpful` (`1, 17,"...`); valid after stripping.
  junk        1  `helpful` is its digits followed by `x` (`3x`): the row is invalid.
  boolean     1  `reported` is `2`: the row is invalid.
  swap        2  a row and the next one are written in swapped order (id `8` before `7`).
answers.csv (`id,question_id,body,date_written,answerer_name,answerer_email,reported,helpful`)
  orphan      3  `question_id` is above the last question id: the question does not exist.
  whitespace  3  as above, in `question_id` or `helpful`.
  junk        1  `helpful` is `<digits>x`: invalid.
  boolean     1  `reported` is `2`: invalid.
  swap        2  as above.
answers_photos.csv (`id,answer_id,url`)
  whitespace  3  as above, in `answer_id`.
  junk        1  `answer_id` is `<digits>x`: invalid.
  swap        2  as above.
So invalid rows are about a quarter of the defects (~0.025% of rows at the default 0.001).
Knock-on effects a loader sees: answers of a rejected (junk/boolean) or product-0 question, and
photos of a rejected or orphan answer, reference a parent that was not loaded.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import accumulate
from pathlib import Path
from random import Random

from ..core.fake import DOMAINS, FIRST_NAMES, LAST_NAMES, SEPARATORS, WORDS
from ..core.generating import FULL_PRODUCTS, GenerateOptions, legacy_lines, stream, write_bom_crlf_copy
from ..core.tables import csv_headers
from ..core.workers import Workers
from .tables import LEGACY

HEADERS = csv_headers(LEGACY)
FILES = tuple(HEADERS)
FULL_QUESTIONS = 3_518_963
FULL_ANSWERS = 6_879_306
FULL_PHOTOS = 2_063_759
BLOCK_PRODUCTS = 4096

QUESTIONS_FROM = 1514764800000  # 2018-01-01T00:00:00Z
QUESTIONS_UNTIL = 1633046400000  # 2021-10-01T00:00:00Z
DATES_UNTIL = 1640995199999  # 2021-12-31T23:59:59.999Z
DAY_MS = 86_400_000
ANSWER_DELAY_MEAN_MS = 40 * DAY_MS

REPORTED_SHARE = 0.005
SELLER_SHARE = 0.06
MAX_ANSWER_PHOTOS = 5
SCRIPT_WINDOW = 200  # the scripted answers of questions 1-9 are among the first answers

# (question id, body, answerer name, helpful, reported, days after the question)
SCRIPTED_ANSWERS = (
    (1, "Something pretty soft but I can't be sure", "metslover", 5, 0, 3),
    (1, "It's 100% cotton, the tag says so.", "Seller", 8, 0, 1),
    (1, "Supposedly suede, but I think its synthetic", "sillyguy", 1, 0, 40),
    (2, "THIS IS AN EVEN WEIRDER ANSWER!!!!?", "jbilas", 0, 1, 2),
    (3, "It runs small, order one size up.", "Seller", 14, 0, 1),
    (3, "True to size for me, I'm 5'9\" and 160 lbs", "dschulman", 3, 0, 12),
    (3, "A little big, especially in the sleeves", "mymainstreammother", 2, 0, 30),
    (4, "Mine has lasted two years of daily wear, no complaints.", "funtime", 4, 0, 20),
    (4, "Depends how you treat it!", "sillyguy", 0, 0, 65),
    (5, "Yes, cold water and hang dry. Do NOT tumble dry.", "Seller", 9, 0, 0),
    (5, "I've washed mine a dozen times, it's fine", "shortandsweeet", 2, 0, 9),
    (6, "It's a jacket...", "coolkid", 7, 0, 4),
    (7, "Made in Portugal", "Seller", 6, 0, 2),
    (7, "China, according to the tag #honest", "tagreader", 1, 0, 15),
    (8, "60% recycled materials, \"certified\" by a third party", "Seller", 5, 0, 3),
    (9, "No, it does not contain dye #17.", "Seller", 6, 0, 1),
    (9, "Ask your doctor first!", "l33tgamer", 0, 0, 7),
)

QUESTION_EXTRAS = (" Asking for a friend, thanks!", " Is it \"waterproof\"?", " I'm 6'2\", will it fit?",
                   " #help", "!!!!?", " Any ideas, anyone?")
ANSWER_EXTRAS = (" Hope that helps!", " It's \"true to size\", mostly.", " Love it, 10/10 #fashion",
                 "!!!!", " Don't wash it hot, it shrinks.")
PHOTO_WIDTHS = (1650, 1650, 1650, 1567, 668, 1651, 2760, 1525, 1511, 1000, 975)
_NUMBERS = tuple(str(i) for i in range(100))
_HELPFUL = tuple(range(31))
_HELPFUL_CUM = tuple(accumulate(1 / (h + 3) for h in _HELPFUL))

# questions and answers share a row layout; *_FIELDS take every field as a string (defects)
POST_FORMAT = '%d,%d,"%s",%d,"%s","%s",%d,%d'
POST_FIELDS = '%s,%s,"%s",%s,"%s","%s",%s,%s'
PHOTO_FORMAT = '%d,%d,"%s"'
PHOTO_FIELDS = '%s,%s,"%s"'


@dataclass(frozen=True)
class QaPlan:
    """Totals and the closed-form split of every file into blocks of products."""

    seed: int
    products: int
    defect_rate: float
    block_products: int = BLOCK_PRODUCTS

    @property
    def questions(self) -> int:
        return round(FULL_QUESTIONS * self.products / FULL_PRODUCTS)

    @property
    def answers(self) -> int:
        return round(FULL_ANSWERS * self.products / FULL_PRODUCTS)

    @property
    def photos(self) -> int:
        return round(FULL_PHOTOS * self.products / FULL_PRODUCTS)

    @property
    def blocks(self) -> int:
        return max(1, round(self.products / self.block_products))

    def _edge(self, block: int) -> int:
        """Products before the block."""
        return round(self.products * block / self.blocks)

    def product_range(self, block: int) -> range:
        return range(self._edge(block) + 1, self._edge(block + 1) + 1)

    def _span(self, total: int, block: int) -> tuple[int, int]:
        start = round(total * self._edge(block) / self.products)
        end = round(total * self._edge(block + 1) / self.products)
        return start + 1, end - start

    def question_span(self, block: int) -> tuple[int, int]:
        """(first id, count) of the block's questions."""
        return self._span(self.questions, block)

    def answer_span(self, block: int) -> tuple[int, int]:
        return self._span(self.answers, block)

    def photo_span(self, block: int) -> tuple[int, int]:
        return self._span(self.photos, block)


def generate(options: GenerateOptions) -> list[Path]:
    """Write the three Q&A files into options.out; returns their paths (then BOM/CRLF copies)."""
    plan = QaPlan(options.seed, options.products, options.defect_rate)
    workers = min(2, os.cpu_count() or 1) if plan.blocks >= 4 else 0
    return write_files(options, plan, workers)


def write_files(options: GenerateOptions, plan: QaPlan, workers: int) -> list[Path]:
    totals = {"questions.csv": plan.questions, "answers.csv": plan.answers, "answers_photos.csv": plan.photos}
    makers = {"questions.csv": questions_block, "answers.csv": answers_block, "answers_photos.csv": photos_block}
    paths: list[Path] = []
    with Workers(workers) as pool:
        for name in FILES:
            path = Path(options.out) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            options.progress.start(name, totals[name])
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(HEADERS[name] + "\n")
                for text, rows in pool.map(partial(makers[name], plan), range(plan.blocks)):
                    fh.write(text)
                    options.progress.advance(rows)
            options.progress.finish()
            paths.append(path)
    if options.bom_crlf:
        paths += [write_bom_crlf_copy(path, Path(options.out)) for path in paths]
    return paths


# --- questions ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def real_questions() -> tuple[list[str], list[int]]:
    """The real head lines (verbatim) and their dates."""
    lines = legacy_lines("questions.csv")
    dates = [int(row[3]) for row in csv.reader(lines)]
    return lines, dates


def question_dates(seed: int, block: int, count: int) -> list[int]:
    """Dates of a block's questions (its own stream, so the answers pass can recompute them)."""
    rng = stream(seed, "qa", "question-dates", block)
    span = QUESTIONS_UNTIL - QUESTIONS_FROM
    dates = [QUESTIONS_FROM + int(rng.random() * span) for _ in range(count)]
    if block == 0:
        real = real_questions()[1]
        dates[: len(real)] = real
    return dates


def questions_block(plan: QaPlan, block: int) -> tuple[str, int]:
    first_id, count = plan.question_span(block)
    rng = stream(plan.seed, "qa", "questions", block)
    head = real_questions()[0] if block == 0 else []
    n = count - len(head)
    products = plan.product_range(block)
    if block == 0:
        products = range(3, products.stop)  # products 1 and 2 have only their real questions
    weights = [0.0 if rng.random() < 0.2 else rng.expovariate(1.0) ** 1.2 for _ in products]
    product_ids = sorted(_pick(rng, products, weights, n))
    rows = list(zip(
        range(first_id + len(head), first_id + count),
        product_ids,
        _bodies(rng, n, 4, 18, "?", QUESTION_EXTRAS),
        question_dates(plan.seed, block, count)[len(head):],
        _usernames(rng, n),
        _emails(rng, n),
        _flags(rng, n, REPORTED_SHARE),
        rng.choices(_HELPFUL, cum_weights=_HELPFUL_CUM, k=n),
    ))
    lines = head + [POST_FORMAT % row for row in rows]
    damage = {
        "product0": (3, lambda r: _with(r, 1, "0")),
        "whitespace": (3, lambda r: _spaced(rng, r, rng.choice((1, 7)))),
        "junk": (1, lambda r: _with(r, 7, f"{r[7]}x")),
        "boolean": (1, lambda r: _with(r, 6, "2")),
    }
    _inject(rng, plan.defect_rate, lines, rows, len(head), damage, POST_FIELDS)
    return _text(lines), count


# --- answers -----------------------------------------------------------------------------


def answers_block(plan: QaPlan, block: int) -> tuple[str, int]:
    q_first, q_count = plan.question_span(block)
    first_id, count = plan.answer_span(block)
    rng = stream(plan.seed, "qa", "answers", block)
    real = len(real_questions()[0]) if block == 0 else 0
    weights = [0.0 if i < real or rng.random() < 0.2 else rng.expovariate(1.0) for i in range(q_count)]
    targets = _pick(rng, range(q_count), weights, count)  # not sorted: answers are not grouped
    q_dates = question_dates(plan.seed, block, q_count)
    limit = DATES_UNTIL
    delay = 1 / ANSWER_DELAY_MEAN_MS
    dates = [min(limit, q_dates[t] + int(rng.expovariate(delay))) for t in targets]
    names = ["Seller" if seller else name for seller, name in
             zip(_flags(rng, count, SELLER_SHARE), _usernames(rng, count))]
    rows = list(zip(
        range(first_id, first_id + count),
        [q_first + t for t in targets],
        _bodies(rng, count, 3, 20, ".", ANSWER_EXTRAS),
        dates,
        names,
        _emails(rng, count),
        _flags(rng, count, REPORTED_SHARE),
        rng.choices(_HELPFUL, cum_weights=_HELPFUL_CUM, k=count),
    ))
    protected = 0
    if block == 0:
        protected = min(count, SCRIPT_WINDOW)
        _script(rng, rows, protected)
    lines = [POST_FORMAT % row for row in rows]
    last_question = plan.questions
    damage = {
        "orphan": (3, lambda r: _with(r, 1, str(last_question + rng.randint(1, 1000)))),
        "whitespace": (3, lambda r: _spaced(rng, r, rng.choice((1, 7)))),
        "junk": (1, lambda r: _with(r, 7, f"{r[7]}x")),
        "boolean": (1, lambda r: _with(r, 6, "2")),
    }
    _inject(rng, plan.defect_rate, lines, rows, protected, damage, POST_FIELDS)
    return _text(lines), count


def _script(rng: Random, rows: list[tuple], window: int) -> None:
    """Put the hand-written answers of questions 1-9 at scattered places among the first rows."""
    real_dates = real_questions()[1]
    places = sorted(rng.sample(range(window), len(SCRIPTED_ANSWERS)))
    for place, (question, body, name, helpful, reported, days) in zip(places, SCRIPTED_ANSWERS):
        answer_id, *_ = rows[place]
        date = real_dates[question - 1] + days * DAY_MS + rng.randrange(DAY_MS)
        rows[place] = (answer_id, question, body.replace('"', '""'), date, name,
                       "first.last@gmail.com", reported, helpful)


# --- answer photos -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _photo_ids() -> tuple[str, ...]:
    text = "\n".join(legacy_lines("photos.csv") + legacy_lines("reviews_photos.csv"))
    return tuple(sorted(set(re.findall(r"photo-([0-9a-f]+-[0-9a-f]+)", text))))


def photos_block(plan: QaPlan, block: int) -> tuple[str, int]:
    a_first, a_count = plan.answer_span(block)
    first_id, count = plan.photo_span(block)
    rng = stream(plan.seed, "qa", "photos", block)
    # a quarter of the answers may have photos, at most 5 each: draw distinct (answer, slot) places
    eligible = [a for a in range(a_count) if rng.random() < 0.25]
    if len(eligible) * MAX_ANSWER_PHOTOS < count:
        eligible = list(range(a_count))
    slots = rng.sample(range(len(eligible) * MAX_ANSWER_PHOTOS), count)
    answers = [eligible[slot // MAX_ANSWER_PHOTOS] for slot in sorted(slots)]
    ids = rng.choices(_photo_ids(), k=count)
    widths = rng.choices(PHOTO_WIDTHS, k=count)
    tags = rng.choices(("ixid=eyJhcHBfaWQiOjEyMDd9&", ""), cum_weights=(3, 4), k=count)
    urls = [f"https://images.unsplash.com/photo-{p}?ixlib=rb-1.2.1&{t}auto=format&fit=crop&w={w}&q=80"
            for p, t, w in zip(ids, tags, widths)]
    rows = list(zip(range(first_id, first_id + count), [a_first + a for a in answers], urls))
    lines = [PHOTO_FORMAT % row for row in rows]
    damage = {
        "whitespace": (3, lambda r: _spaced(rng, r, 1)),
        "junk": (1, lambda r: _with(r, 1, f"{r[1]}x")),
    }
    _inject(rng, plan.defect_rate, lines, rows, 0, damage, PHOTO_FIELDS)
    return _text(lines), count


# --- shared helpers ----------------------------------------------------------------------


def _pick(rng: Random, population: range, weights: list[float], k: int) -> list[int]:
    """k weighted draws (uniform if every weight is zero)."""
    if k == 0:
        return []
    if not population:
        raise ValueError("rows to place but no parents in this block")
    cum = list(accumulate(weights))
    if cum[-1] <= 0:
        return rng.choices(population, k=k)
    return rng.choices(population, cum_weights=cum, k=k)


def _bodies(rng: Random, n: int, low: int, high: int, end: str, extras: tuple[str, ...]) -> list[str]:
    """Lorem-ipsum sentences, CSV-escaped (quotes doubled); ~3% carry punctuation extras."""
    lengths = rng.choices(range(low, high + 1), k=n)
    words = rng.choices(WORDS, k=sum(lengths))
    decorated = rng.choices(extras + ("",), cum_weights=_extras_cum(len(extras)), k=n)
    out = []
    at = 0
    for length, extra in zip(lengths, decorated):
        text = " ".join(words[at:at + length])
        at += length
        out.append(text[0].upper() + text[1:] + end + extra)
    return [text.replace('"', '""') for text in out]


@lru_cache(maxsize=8)
def _extras_cum(n: int) -> tuple[float, ...]:
    return tuple(accumulate([0.03 / n] * n + [0.97]))


def _usernames(rng: Random, n: int) -> list[str]:
    """`Steve.Witting98`, `Joaquin44`, `Marquise_Hirthe` (fake.username, in bulk)."""
    firsts = rng.choices(FIRST_NAMES, k=n)
    lasts = rng.choices(LAST_NAMES, k=n)
    seps = rng.choices(SEPARATORS, k=n)
    numbers = rng.choices(_NUMBERS, k=n)
    forms = rng.choices((0, 1, 2), cum_weights=(4, 8, 10), k=n)
    return [f + num if form == 0 else f + sep + last + num if form == 1 else f + sep + last
            for f, last, sep, num, form in zip(firsts, lasts, seps, numbers, forms)]


def _emails(rng: Random, n: int) -> list[str]:
    """`Makenna1@gmail.com`, `Dejah_Mohr@hotmail.com` (fake.email, in bulk)."""
    return [f"{local}@{domain}" for local, domain in zip(_usernames(rng, n), rng.choices(DOMAINS, k=n))]


def _flags(rng: Random, n: int, share: float) -> list[int]:
    return rng.choices((0, 1), cum_weights=(1 - share, 1), k=n)


def _spaced(rng: Random, row: tuple, index: int) -> tuple:
    return _with(row, index, rng.choice((" %s", "%s ", " %s ")) % row[index])


def _with(row: tuple, index: int, value: str) -> tuple:
    fields = [str(v) for v in row]
    fields[index] = value
    return tuple(fields)


def _inject(rng: Random, rate: float, lines: list[str], rows: list[tuple], first: int,
            damage: dict[str, tuple[int, Callable[[tuple], tuple]]], fields_format: str) -> None:
    """Give about `rate` of lines[first:] one defect each: a damaged field (rebuilt from `rows`,
    which line up with the end of `lines`) or a swap with the next line."""
    eligible = len(lines) - first
    if rate <= 0 or eligible < 2:
        return
    wanted = eligible * rate
    k = min(eligible - 1, int(wanted) + (rng.random() < wanted - int(wanted)))
    if k == 0:
        return
    kinds = list(damage) + ["swap"]
    weights = list(accumulate([w for w, _ in damage.values()] + [2]))
    offset = len(lines) - len(rows)
    chosen = list(zip(rng.choices(kinds, cum_weights=weights, k=k), rng.sample(range(first, len(lines) - 1), k)))
    for kind, at in chosen:  # damage first: swaps then move whole lines
        if kind != "swap":
            lines[at] = fields_format % damage[kind][1](rows[at - offset])
    for kind, at in chosen:
        if kind == "swap":
            lines[at], lines[at + 1] = lines[at + 1], lines[at]


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""
