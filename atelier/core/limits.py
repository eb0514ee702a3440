"""Process limits of a directly exposed server: open files and connections per worker.

Every connection is a file descriptor, and Granian holds one permit per open connection (its
`backpressure`): when the permits run out it stops accepting, so every new client waits in the
listen backlog however idle the connections that hold them. Slow or idle clients are cut by the
header timeout (see `serve`); the permits must outnumber what they can hold meanwhile.
"""

from __future__ import annotations

import resource

FD_RESERVE = 256  # descriptors a worker keeps for itself: database connections, files, pipes, the loop
# Connections per worker unless configured. 5,000 slowloris and 5,000 idle keep-alive connections
# added 76 MiB to the server's memory (about 8 KiB each; python bench/slow_clients.py), so the cap
# holds a worker under 130 MiB of connections.
MAX_CONNECTIONS_CAP = 16_384


def raise_open_file_limit() -> int:
    """Raises this process's soft RLIMIT_NOFILE to its hard limit (workers inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass  # a limit the kernel refuses (nr_open): keep the soft one
    return soft


def default_max_connections(open_files: int) -> int:
    """Connections per worker: what its descriptors allow, at most MAX_CONNECTIONS_CAP."""
    return max(64, min(MAX_CONNECTIONS_CAP, open_files - FD_RESERVE))
