"""Keeping the loader's freed memory for its next block.

Each block's arrays are tens of MB, allocated and freed again block after block. glibc hands
blocks that big to the kernel (mmap, then munmap; or trims the heap top), so every block faults
its arrays in again, page by page, zeroed: at scale 0.1, reading reviews, answers, skus and
characteristic_reviews took 1.0-1.15 s of system time beside 4.4 s of user time, and 0.4-0.5 s
with the settings below (165-200k minor page faults down to 93-98k; /usr/bin/time, two runs
each). Memory stays bounded: it is what the largest block needed, kept for the next one. Only
the processes that load one big file each (`context._load_in_process`) set it: the main process
of `atelier up` goes on to serve.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
KEEP_BYTES = 64 << 20  # allocations below this come from the heap; up to 4x this stays after a free


def keep_freed_memory() -> bool:
    """Raises glibc's mmap and trim thresholds in this process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, 4 * KEEP_BYTES))
