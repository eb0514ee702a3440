"""What every service's data generator shares: options, deterministic randomness, CSV writing in
the legacy format, the real legacy head rows, defect injection and progress (core/progress.py).

Determinism: every random stream is a `random.Random` seeded from (seed, names...), never from
global state, so the same arguments give byte-identical files whatever the order of work.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TextIO

from .progress import Progress

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


class CsvFile:
    """A legacy CSV file written in large buffered chunks (LF line endings, UTF-8)."""

    def __init__(self, path: Path, header: str, buffer_lines: int = 20_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh: TextIO = open(path, "w", encoding="utf-8", newline="")
        self._fh.write(header + "\n")
        self._buf: list[str] = []
        self._limit = buffer_lines
        self.rows = 0

    def write(self, line: str) -> None:
        self._buf.append(line)
        if len(self._buf) >= self._limit:
            self.flush()

    def write_many(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._buf:
            self._fh.write("\n".join(self._buf))
            self._fh.write("\n")
            self.rows += len(self._buf)
            self._buf.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()

    def __enter__(self) -> CsvFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_bom_crlf_copy(path: Path, out_dir: Path) -> Path:
    """A re-saved copy of a file: UTF-8 BOM and CRLF line endings (defect 10)."""
    target = out_dir / "bom-crlf" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "rb") as src, open(target, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        for chunk in iter(lambda: src.read(1 << 22), b""):
            dst.write(chunk.replace(b"\n", b"\r\n"))
    return target


class Defects:
    """Decides, reproducibly, which rows get a defect: `hit()` is true for about `rate` of calls."""

    def __init__(self, rate: float, rng: random.Random) -> None:
        self.rate = rate
        self._rng = rng

    def hit(self, weight: float = 1.0) -> bool:
        return self.rate > 0 and self._rng.random() < self.rate * weight

