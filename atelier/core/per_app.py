"""Per-process objects (batching readers, the interactions batcher), typed and made on first use.

`READERS = PerApp(make)` at module level, `READERS(request.app)` in a handler: the object `make`
built for that App (one App per worker process). The slot is typed by what `make` returns, so no
string key and no cast stands between a handler and its reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from .app import App

T = TypeVar("T")


class PerApp(Generic[T]):
    def __init__(self, make: Callable[[App], T]) -> None:
        self._make = make
        self._made: WeakKeyDictionary[App, T] = WeakKeyDictionary()
        self._last: tuple[App, T] | None = None  # a worker has one App: an identity check per call

    def __call__(self, app: App) -> T:
        last = self._last
        if last is not None and last[0] is app:
            return last[1]
        value = self._made.get(app)
        if value is None:
            value = self._made[app] = self._make(app)
        self._last = (app, value)
        return value
