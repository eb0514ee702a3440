"""Request bodies that end early: the client went away mid-body, or sent framing that does not parse
(a malformed chunk). Either is the client's doing, so it is answered 400 (if anyone is still there)
and counted, with one log line per minute at most: a stream of such clients cannot flood the log."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("atelier")

BODY = b"Malformed or incomplete request body"
LOG_INTERVAL = 60.0  # seconds between two log lines


class EarlyEnds:
    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self.interval = interval
        self.unlogged = 0
        self._last_logged = -interval

    def note(self) -> None:
        self.unlogged += 1
        now = time.monotonic()
        if now - self._last_logged >= self.interval:
            log.warning("%d request bod%s ended early (client gone or malformed framing): answered 400",
                        self.unlogged, "y" if self.unlogged == 1 else "ies")
            self.unlogged = 0
            self._last_logged = now


early_ends = EarlyEnds()  # one per worker process
