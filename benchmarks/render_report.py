"""Render an audit's report.html with headless Chromium into a PNG (what a browser shows).

    python benchmarks/render_report.py OUT/report.html docs/audit-report.png [--width 1200]

Needs Debian's ``chromium`` (``apt-get install chromium``). The page is opened as a file:
it fetches nothing, so no network is needed or used.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def render(page, png, width=1200, height=2000, timeout=120):
    """Screenshot ``page`` (a path) into ``png`` with headless Chromium; returns ``png``.

    Raises:
        FileNotFoundError: no ``chromium`` on PATH.
        subprocess.CalledProcessError: Chromium failed (its output is in the error).
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise FileNotFoundError("chromium not found: apt-get install chromium")
    png = Path(png).absolute()
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={png}", Path(page).absolute().as_uri()],
                   check=True, capture_output=True, timeout=timeout)
    return png


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    print(render(args.page, args.png, args.width, args.height))


if __name__ == "__main__":
    sys.exit(main())
