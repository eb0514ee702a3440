"""Worker processes for the generators: a function over items, results in the items' order."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Workers:
    """Runs a function over items in forked worker processes, results in the items' order, at
    most `2 * processes + 2` of them computed and not yet taken (bounded memory); with one
    process, in this one. A file written from the results is the same whatever the number of
    processes."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        if processes > 1:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._executor = ProcessPoolExecutor(processes, mp_context=context)

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._executor is None:
            yield from map(func, items)
            return
        window = 2 * self.processes + 2
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(self._executor.submit(func, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
