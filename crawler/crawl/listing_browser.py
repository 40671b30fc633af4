"""The download handler of a crawl whose listings are rendered in Chromium: one per crawler, for both schemes.

Scrapy builds one download handler per URL scheme. With scrapy-playwright's handler under both `http` and
`https`, a JavaScript portal's crawler started two Playwright drivers and two Chromiums, each with its
startup context (about 520 MB of memory together, bench/national.py "at the peak moment"), although its
listing pages all go to one of them. Here both schemes get the same handler instance: one driver, one
browser, one confined context per portal crawler. Scrapy closes each scheme's handler, so close() runs once.
"""

from __future__ import annotations

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

_ATTRIBUTE = "_xxgk_listing_browser"


class ListingBrowserHandler(ScrapyPlaywrightDownloadHandler):
    @classmethod
    def from_crawler(cls, crawler):
        handler = getattr(crawler, _ATTRIBUTE, None)
        if handler is None:
            handler = cls(crawler)
            setattr(crawler, _ATTRIBUTE, handler)
        return handler

    async def close(self) -> None:
        if getattr(self, "_xxgk_closed", False):
            return
        self._xxgk_closed = True
        await super().close()
