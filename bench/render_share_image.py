"""Render static/img/invite-share.svg to the PNG messengers fetch for invite
link previews (most do not accept SVG). Uses Debian's Chromium through
Playwright: `python -m bench.render_share_image`."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "img" / "invite-share.svg"
TARGET = SOURCE.with_suffix(".png")


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1200, "height": 630})
        page.goto(SOURCE.as_uri())
        page.screenshot(path=str(TARGET), clip={"x": 0, "y": 0, "width": 1200, "height": 630})
        browser.close()
    print(f"{TARGET.relative_to(ROOT)}: {TARGET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
