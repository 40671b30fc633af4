"""Proof of absence: a Chromium screenshot of an agency's listing page, taken at check time.

Debian's Chromium through Playwright's sync API (never `playwright install`). One browser serves
all the pages of a check run; a page that cannot be loaded yields its error instead of an image,
and the monitor records that too.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.browser import CHROMIUM_ARGS, CHROMIUM_PATH

TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Shot:
    url: str
    png: bytes | None
    error: str | None = None  # why there is no image (unreachable, timeout, browser missing)


def capture(urls: list[str], *, timeout_ms: int = TIMEOUT_MS) -> list[Shot]:
    """Full-page screenshots of `urls`, in order; failures are returned, not raised."""
    if not urls:
        return []
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - playwright is a dependency
        return [Shot(u, None, f"playwright unavailable: {e}") for u in urls]
    shots: list[Shot] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
                for url in urls:
                    page = context.new_page()
                    try:
                        page.goto(url, wait_until="networkidle", timeout=timeout_ms)
                        shots.append(Shot(url, page.screenshot(full_page=True, timeout=timeout_ms)))
                    except PlaywrightError as e:
                        shots.append(Shot(url, None, str(e).splitlines()[0][:300]))
                    finally:
                        page.close()
            finally:
                browser.close()
    except PlaywrightError as e:  # the browser itself could not start
        done = {s.url for s in shots}
        shots += [Shot(u, None, f"chromium: {str(e).splitlines()[0][:300]}") for u in urls if u not in done]
    return shots
