"""Take the README screenshots from a running console (`make demo`) with headless Chromium.

    .venv/bin/python scripts/screenshots.py [--base http://127.0.0.1:8000] [--out docs]

Signs in as the demo customer and saves the queue page and Email status at desktop
(1366 px) and phone (390 px) widths.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

SHOTS = [
    # (file name, path, viewport width, viewport height, full page)
    ("screenshot.png", "/queue/?range=7d", 1366, 900, False),
    ("screenshot-email-status.png", "/messages/", 1366, 900, False),
    ("screenshot-phone.png", "/queue/?range=7d", 390, 844, True),
    ("screenshot-email-status-phone.png", "/messages/", 390, 844, False),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default="docs", type=Path)
    parser.add_argument("--user", default="demo")
    parser.add_argument("--password", default="demo-password")
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless=new"])
        for name, path, width, height, full in SHOTS:
            context = browser.new_context(
                base_url=args.base, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            page.goto("/login/")
            page.fill("#id_username", args.user)
            page.fill("#id_password", args.password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login/" not in url)
            page.goto(path)
            if page.locator("canvas[data-chart]").count():
                page.wait_for_selector("canvas[data-ready]")
            page.screenshot(path=str(args.out / name), full_page=full)
            print(f"{args.out / name}: {path} at {width} px")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
