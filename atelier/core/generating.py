"""What every service's data generator shares: options, deterministic randomness, the legacy CSV
quoting, the real legacy head rows, defect positions and a progress bar.

Determinism: every random stream is a `random.Random` seeded from (seed, names...), never from
global state, so the same arguments give byte-identical files whatever the order of work.
"""

from __future__ import annotations

import hashlib
import math
import random
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TextIO

FULL_PRODUCTS = 1_000_011


@dataclass
class GenerateOptions:
    out: Path
    scale: float = 0.01
    seed: int = 1
    defect_rate: float = 0.001  # share of rows that get one of the spec's defects; 0 turns them off
    bom_crlf: bool = False  # also write re-saved copies (UTF-8 BOM + CRLF) under out/bom-crlf/
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))

    @property
    def products(self) -> int:
        """Number of products at this scale (full scale 1,000,011; never fewer than the head rows)."""
        return max(20, round(FULL_PRODUCTS * self.scale))

    @property
    def full(self) -> bool:
        """At full scale the real tail rows (products 999,996-1,000,011 and children) are written."""
        return self.products >= FULL_PRODUCTS


def stream(seed: int, *names: object) -> random.Random:
    """An independent, reproducible random stream for (seed, names...)."""
    key = ":".join(str(n) for n in (seed, *names)).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


def quote(text: str) -> str:
    """A CSV string field in the legacy format: always double-quoted, quotes doubled (RFC 4180)."""
    return '"' + text.replace('"', '""') + '"'


def legacy_lines(filename: str) -> list[str]:
    """Data lines of the real legacy sample file (header dropped), exactly as in the file."""
    text = resources.files("atelier.legacy_sample").joinpath(filename).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[1:]


def legacy_id(line: str) -> int:
    return int(line.split(",", 1)[0])


def write_bom_crlf_copy(path: Path, out_dir: Path) -> Path:
    """A re-saved copy of a file: UTF-8 BOM and CRLF line endings (defect 10)."""
    target = out_dir / "bom-crlf" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as src, open(target, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        for chunk in iter(lambda: src.read(1 << 22), b""):
            dst.write(chunk.replace(b"\n", b"\r\n"))
    return target


def hit_positions(rng: random.Random, rate: float, n: int) -> list[int]:
    """Indexes in range(n), each chosen with probability `rate` (geometric gaps: cheap at small rates)."""
    if rate <= 0 or n <= 0:
        return []
    if rate >= 1:
        return list(range(n))
    log_miss = math.log(1.0 - rate)
    out: list[int] = []
    i = -1
    while True:
        i += 1 + int(math.log(1.0 - rng.random()) / log_miss)
        if i >= n:
            return out
        out.append(i)


class Progress:
    """A small progress bar on stderr: rows written against the rows expected."""

    def __init__(self, enabled: bool = True, stream_: TextIO | None = None) -> None:
        self.enabled = enabled
        self.out = stream_ or sys.stderr
        self.label = ""
        self.total = 0
        self.done = 0
        self._started = time.monotonic()
        self._last = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self._started = time.monotonic()
        self._draw(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        self.done = max(self.done, 0)
        self._draw(force=True, end=True)

    def _draw(self, force: bool = False, end: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        self.out.write(
            f"\r{self.label:<28} [{bar:<30}] {share:6.1%} {self.done:>12,} rows {rate:>10,.0f}/s {elapsed:6.1f}s"
        )
        if end:
            self.out.write("\n")
        self.out.flush()
