"""An id set shared between loader processes through a memory-mapped file."""

from __future__ import annotations

import mmap
import pickle
from pathlib import Path

from .ids import IdSet


class SharedIdSet(IdSet):
    """The ids of a file that loaders in other processes check against while it is still loading.

    The bitmap is a file mapped into every process that unpickles the set, so a child file's
    loader sees each parent id the moment the parent's loader adds it, and checks its rows in
    step with the parent instead of after it. An id not there yet may still come: `complete`
    (a status byte) says when the parent file is loaded, and only then is absence final, so
    `load_file` holds such rows back until then. Ids above the bitmap (junk in practice) reach
    the readers with the completion.
    """

    _COMPLETE, _ABANDONED = 1, 2  # the status byte; 0 while the file is loading
    _BITMAP_BYTES = IdSet._BITMAP_LIMIT >> 3  # 16 MiB, sparse: only the pages of loaded ids take memory

    def __init__(self, path: Path) -> None:
        """Creates the file; other processes map it when they unpickle the set."""
        with open(path, "wb") as fh:
            fh.truncate(1 + self._BITMAP_BYTES)
        self._attach(path)

    def __getstate__(self) -> dict[str, Path]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Path]) -> None:
        self._attach(state["path"])

    def _attach(self, path: Path) -> None:
        self.path = path
        with open(path, "r+b") as fh:
            self._map = mmap.mmap(fh.fileno(), 1 + self._BITMAP_BYTES)
        self._bits = memoryview(self._map)[1:]  # byte 0 is the status
        self._big = set()
        self._complete = False
        self.count = 0

    @property
    def complete(self) -> bool:  # type: ignore[override]
        if not self._complete:
            status = self._map[0]
            if status == self._ABANDONED:
                raise RuntimeError(f"the load of {self.path.name} failed: its children cannot be checked")
            if status == self._COMPLETE:
                self._big |= pickle.loads(self._big_path().read_bytes())
                self._complete = True
        return self._complete

    def finish(self) -> None:
        """Publishes the set as complete: its file is loaded."""
        self._big_path().write_bytes(pickle.dumps(self._big))
        self._map[0] = self._COMPLETE
        self._complete = True

    def abandon(self) -> None:
        """Tells the readers that the file failed to load, so that none waits for it."""
        self._map[0] = self._ABANDONED

    def private_copy(self) -> IdSet:
        """A plain IdSet with the same ids, for use after the shared file is gone."""
        ids = IdSet()
        ids._bits = bytearray(bytes(self._bits).rstrip(b"\0"))
        ids._big = set(self._big)
        ids.count = self.count
        return ids

    def _big_path(self) -> Path:
        return self.path.with_name(self.path.name + ".big")

