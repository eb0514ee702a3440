"""Progress of long steps (rows written against rows expected), readable on a terminal and in a log.

On a terminal the progress is a bar redrawn in place (tqdm). Anywhere else (a file, a pipe, CI)
a bar redrawn with carriage returns would run together into one endless line, so the progress is
plain lines instead: one when a step starts, one every `interval` seconds, one when it ends.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 10.0  # seconds between two plain lines when the output is not a terminal


class Progress:
    """One step at a time: `start(label, total)`, `advance(n)` as rows are written, `finish()`."""

    def __init__(self, enabled: bool = True, stream_: TextIO | None = None, interval: float = LOG_INTERVAL_S,
                 bar: bool | None = None) -> None:
        """`bar`: None draws a bar when `stream_` is a terminal and plain lines otherwise."""
        self.enabled = enabled
        self.out = stream_ or sys.stderr
        self.interval = interval
        self.bar = _is_terminal(self.out) if bar is None else bar
        self.label = ""
        self.total = 1
        self.done = 0
        self._started = time.monotonic()
        self._last_line = self._started
        self._tqdm: Any = None

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self._started = self._last_line = time.monotonic()
        if not self.enabled:
            return
        if self.bar:
            self._tqdm = tqdm(total=self.total, desc=f"{label:<28}", unit=" rows", unit_scale=True, file=self.out,
                              dynamic_ncols=True, mininterval=0.2, leave=True)
        else:
            self._line("start")

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.update(n)
        elif time.monotonic() - self._last_line >= self.interval:
            self._line("update")

    def finish(self) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        else:
            self._line("done")

    def _line(self, event: str) -> None:
        now = time.monotonic()
        self._last_line = now
        elapsed = now - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if event == "start":
            text = f"{self.label}: {self.total:,} rows to write"
        elif event == "done":
            text = f"{self.label}: {self.done:,} rows in {elapsed:.1f} s ({rate:,.0f} rows/s)"
        else:
            share = min(self.done / self.total, 1.0)
            text = (f"{self.label}: {self.done:,} of {self.total:,} rows ({share:.1%}), "
                    f"{rate:,.0f} rows/s, {elapsed:.0f} s")
        self.out.write(text + "\n")
        self.out.flush()

def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
