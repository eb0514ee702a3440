"""A screenshot of /dashboard in headless Chromium while the API is under load.

    DATABASE_URL=postgresql://... python bench/dashboard_screenshot.py [--seconds 40 --rate 2000]
        [--png docs/dashboard-under-load.png]

Runs `atelier loadtest rate` (shopper mix) in the background, lets the page poll for --seconds
and saves the picture. Needs Debian's chromium (bench/install-tools.sh).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ROOT, highest_product_id, loadtest, parser, server

from atelier.loadtest.browser import Browser


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--mix", default="shopper")
    p.add_argument("--png", type=Path, default=ROOT / "docs" / "dashboard-under-load.png")
    args = p.parse_args()
    out = args.out or ROOT / "reports" / "bench" / "dashboard"
    with server(args.url, args.workers) as url:
        max_id = args.max_id or highest_product_id(url)
        load = threading.Thread(target=loadtest, daemon=True, args=(
            url, out, "load", "rate", "--rate", str(args.rate), "--mix", args.mix, "--max-id", str(max_id),
            "--duration", str(args.seconds + 5), "--no-html"))
        with Browser(width=1280, height=900) as browser:
            browser.open(url + "/dashboard")
            load.start()
            browser.wait_for(f"window.atelierDashboard.history.length >= {int(args.seconds)}",
                             timeout=args.seconds + 30, every=1)
            args.png.parent.mkdir(parents=True, exist_ok=True)
            browser.screenshot(args.png)
        load.join()
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
