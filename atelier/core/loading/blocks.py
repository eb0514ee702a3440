"""A legacy CSV file as blocks of whole lines, each with the line number it starts on.

Lines end as Python's universal newlines end them (the exact path's reading): `\\n`, `\\r\\n` or a
lone `\\r`. A block whose carriage returns all precede a newline has them removed (CRLF copies),
so its lines are the pieces between newlines. A block with a lone `\\r` keeps its bytes and is
marked `universal`: it goes to the exact path whole, which splits it as Python does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BLOCK_BYTES = 4 << 20  # numpy's fixed costs are amortised; memory stays a few blocks whatever the file


@dataclass
class Block:
    first_line: int  # line number (1 is the header) of the block's first line
    data: bytes  # whole lines, the last one ending with a newline
    universal: bool = False  # holds a lone carriage return: split by universal newlines only

    def universal_lines(self) -> list[str]:
        """The lines (without their endings) as Python's text reading splits them."""
        text = self.data.decode("utf-8", "surrogateescape")
        return [line.rstrip("\r\n") if line.endswith("\n") else line.removesuffix("\r")
                for line in io.StringIO(text, newline="")]


def read_blocks(path: Path, offset: int, size: int = BLOCK_BYTES) -> Iterator[Block]:
    """The blocks of `path` from byte `offset` (the first data line, line 2)."""
    number = 2
    with open(path, "rb") as fh:
        fh.seek(offset)
        rest = b""
        while True:
            chunk = fh.read(size)
            data = rest + chunk
            if not chunk:
                if data:
                    yield _block(number, data + b"\n")
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block = _block(number, data[:cut])
            rest = data[cut:]
            yield block
            number += _line_count(block)


def _block(number: int, data: bytes) -> Block:
    if b"\r" not in data:
        return Block(number, data)
    returns = data.count(b"\r")
    if returns == data.count(b"\r\n"):
        return Block(number, data.replace(b"\r\n", b"\n"))
    return Block(number, data, universal=True)


def _line_count(block: Block) -> int:
    lines = block.data.count(b"\n")
    if block.universal:
        lines += block.data.count(b"\r") - block.data.count(b"\r\n")
    return lines
