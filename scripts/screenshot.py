"""Make docs/timeline.png: `rekoface demo --html` rendered by headless Chromium.

Run from the repository root with the package installed (``pip install -e .``) and
Chromium on PATH (Debian: ``apt-get install --no-install-recommends chromium``)::

    python scripts/screenshot.py [OUTPUT.png]

The page is the demo's own (a fake Rekognition, no AWS account, no network), so the
picture is the same on every machine but for the fonts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rekoface.cli import main as rekoface

SIZE = (1200, 260)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "docs/timeline.png").resolve()
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        print("no Chromium on PATH: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        page = Path(work) / "who.html"
        if rekoface(["demo", "--quiet", "--format", "json", "--html", str(page)]) != 0:
            return 1
        subprocess.run(  # noqa: S603 - the browser on PATH, the page made here
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--force-device-scale-factor=1",
                f"--user-data-dir={Path(work) / 'profile'}",
                f"--screenshot={target}",
                f"--window-size={SIZE[0]},{SIZE[1]}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
