"""Proof of absence: Chromium screenshots of an agency's listing pages, taken at check time and stamped.

Debian's Chromium through Playwright (never `playwright install`). One browser serves all the pages of a
check run; a page that cannot be loaded yields its error instead of an image, and the monitor records
that too.

The listing page is a portal's, so it is untrusted: it is opened behind the portal's `Confinement`
(crawler.browser.BrowserGate, Chromium without a direct network). An iframe, image, fetch, WebSocket or
redirect to an address the portal may not reach is never requested, so nothing from there can be drawn
into the evidence that Datasette serves and the alert links to.

Each image carries a band above the page with the page's URL and the check time in Beijing time, drawn
by xxgk's own page (JavaScript off, no network) around the page's screenshot: the listing's own scripts
cannot remove or forge it. Several pages of a walked listing can go into one image (`combine=True`).
"""

from __future__ import annotations

import asyncio
import base64
import html
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from crawler.browser import (
    CHROMIUM_PATH,
    CONFINED_CHROMIUM_ARGS,
    CONFINED_CONTEXT,
    SCREENSHOT_SKIPPED_RESOURCES,
    BrowserGate,
    settle,
)
from crawler.confinement import Confinement

TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 900}
MAX_PAGE_HEIGHT = 4_000  # CSS pixels of one page kept in the evidence (the list's first screens matter)
PAGES_PER_IMAGE = 4  # a combined image stays under Chromium's ~16k pixel screenshot limit


def _beijing() -> timezone | Any:
    """Asia/Shanghai; China has kept UTC+8 without daylight saving since 1991, so the fixed offset is a
    faithful stand-in where the tz database is missing."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # noqa: BLE001 - no tzdata on this machine
        return timezone(timedelta(hours=8), "CST")


BEIJING = _beijing()

# What `capture` is confined by: one Confinement for every URL, or one per URL (each from its registry
# portal: Confinement.for_portal). None confines each URL to its own host and port, public addresses only.
Confine = Confinement | Mapping[str, Confinement] | None


@dataclass(frozen=True)
class Shot:
    url: str
    png: bytes | None
    error: str | None = None  # why there is no image (unreachable, refused, timeout, browser missing)
    checked_at: datetime | None = None  # the check time stamped into the image
    urls: tuple[str, ...] = ()  # every page in the image (one, or the pages of a combined listing walk)
    refused: tuple[tuple[str, str], ...] = field(default=())  # (url, reason) the pages tried and were refused


@dataclass
class _Page:
    """One page as the browser saw it, before stamping."""

    url: str
    png: bytes | None
    error: str | None
    refused: tuple[tuple[str, str], ...]


def capture(
    urls: list[str],
    *,
    confinement: Confine = None,
    checked_at: datetime | None = None,
    combine: bool = False,
    timeout_ms: int = TIMEOUT_MS,
) -> list[Shot]:
    """Stamped screenshots of `urls`, in order; failures are returned, not raised.

    One Shot per URL, or with `combine` one Shot per PAGES_PER_IMAGE pages of a walked listing (its `url`
    is the first page's, `urls` all of them). Every image is stamped with its page URL(s) and `checked_at`
    (default: now) in Beijing time.
    """
    if not urls:
        return []
    checked_at = checked_at or datetime.now(UTC)
    try:
        import playwright.async_api  # noqa: F401
    except ImportError as e:  # pragma: no cover - playwright is a dependency
        return [Shot(u, None, f"playwright unavailable: {e}", checked_at, (u,)) for u in urls]
    return _run_coroutine(_capture(list(urls), confinement, checked_at, combine, timeout_ms))


def beijing_time(moment: datetime) -> str:
    """The check time as the stamp prints it."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") + " 北京时间 (UTC+8)"


# --- the browser ------------------------------------------------------------------------------------------


async def _capture(
    urls: list[str], confine: Confine, checked_at: datetime, combine: bool, timeout_ms: int
) -> list[Shot]:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM_PATH, args=CONFINED_CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", **CONFINED_CONTEXT)
                pages = [await _page(context, url, _confinement_for(url, confine), timeout_ms) for url in urls]
                await context.close()
                groups = _groups(pages, combine)
                return [await _stamped(browser, group, checked_at, timeout_ms) for group in groups]
            finally:
                await browser.close()
    except PlaywrightError as e:  # the browser itself could not start
        reason = f"chromium: {_first_line(e)}"
        return [Shot(u, None, reason, checked_at, (u,)) for u in urls]


def _confinement_for(url: str, confine: Confine) -> Confinement | None:
    if confine is None:
        return Confinement.for_url(url)
    if isinstance(confine, Confinement):
        return confine
    return confine.get(url)


async def _page(context, url: str, confinement: Confinement | None, timeout_ms: int) -> _Page:
    """Open `url` behind its confinement and screenshot it (its first MAX_PAGE_HEIGHT pixels)."""
    from playwright.async_api import Error as PlaywrightError

    if confinement is None:
        return _Page(url, None, "no confinement was given for this URL", ())
    reason = confinement.refusal(url)
    if reason is not None:
        return _Page(url, None, f"refused ({reason}): the portal's confinement does not admit this URL", ())
    gate = BrowserGate(confinement, skipped=SCREENSHOT_SKIPPED_RESOURCES)
    page = await context.new_page()
    try:
        await gate.confine_page(page)
        await page.goto(url, wait_until="load", timeout=timeout_ms)
        await settle(page)
        png = await page.screenshot(full_page=True, clip=_clip(), timeout=timeout_ms)
        return _Page(url, png, None, tuple(gate.refused))
    except PlaywrightError as e:
        return _Page(url, None, _explained(e, gate), tuple(gate.refused))
    finally:
        await page.close()


def _clip() -> dict[str, int]:
    return {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_PAGE_HEIGHT}


def _explained(error: Exception, gate: BrowserGate) -> str:
    """The browser's error, and what the gate refused when that is why the page did not load."""
    text = _first_line(error)
    if "ERR_BLOCKED_BY_CLIENT" in text and gate.refused:
        url, reason = gate.refused[0]
        return f"refused ({reason}): {url}"
    return text


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


def _groups(pages: list[_Page], combine: bool) -> list[list[_Page]]:
    if not combine:
        return [[p] for p in pages]
    return [pages[i : i + PAGES_PER_IMAGE] for i in range(0, len(pages), PAGES_PER_IMAGE)]


# --- the stamp --------------------------------------------------------------------------------------------


async def _stamped(browser, group: list[_Page], checked_at: datetime, timeout_ms: int) -> Shot:
    """The group's screenshots under their stamps, drawn by a page of xxgk's own (no script, no network)."""
    urls = tuple(p.url for p in group)
    refused = tuple(r for p in group for r in p.refused)
    if all(p.png is None for p in group):
        error = "; ".join(f"{p.url}: {p.error}" for p in group) if len(group) > 1 else group[0].error
        return Shot(urls[0], None, error, checked_at, urls, refused)
    context = await browser.new_context(viewport=VIEWPORT, java_script_enabled=False, **CONFINED_CONTEXT)
    try:
        await context.route("**/*", lambda route: route.abort())  # data: images only
        page = await context.new_page()
        await page.set_content(stamp_html(group, checked_at), wait_until="load", timeout=timeout_ms)
        png = await page.screenshot(full_page=True, timeout=timeout_ms)
    finally:
        await context.close()
    return Shot(urls[0], png, None, checked_at, urls, refused)


def stamp_html(group: list[_Page], checked_at: datetime) -> str:
    """The evidence page: for each listing page a band (URL, check time, page i/n, or why it is missing),
    then its screenshot."""
    when = html.escape(beijing_time(checked_at))
    parts = [
        '<!doctype html><html><head><meta charset="utf-8"><style>'
        'body{margin:0;background:#fff;font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif}'
        ".stamp{background:#fff3bf;border-bottom:3px solid #e8590c;padding:8px 12px;font-size:16px;"
        "line-height:1.5;color:#000;word-break:break-all}"
        ".missing{padding:16px 12px;color:#c92a2a}"
        f"img{{display:block;width:{VIEWPORT['width']}px}}"
        "</style></head><body>"
    ]
    for i, p in enumerate(group, 1):
        count = f" · 第 {i}/{len(group)} 页" if len(group) > 1 else ""
        parts.append(f'<div class="stamp">网址 URL：{html.escape(p.url)}<br>检查时间 Checked：{when}{count}</div>')
        if p.png is None:
            parts.append(f'<div class="missing">未能截图 No screenshot：{html.escape(p.error or "")}</div>')
        else:
            parts.append(f'<img alt="" src="data:image/png;base64,{base64.b64encode(p.png).decode()}">')
    parts.append("</body></html>")
    return "".join(parts)


def _run_coroutine(coro: Coroutine[Any, Any, list[Shot]]) -> list[Shot]:
    """Run on a loop of our own; in a thread when the caller already runs one (Playwright needs a loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _on_new_loop(coro)
    result: list[list[Shot]] = []
    worker = threading.Thread(target=lambda: result.append(_on_new_loop(coro)))
    worker.start()
    worker.join()
    return result[0]


def _on_new_loop(coro: Coroutine[Any, Any, list[Shot]]) -> list[Shot]:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
