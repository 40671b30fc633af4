"""Debian's Chromium, as every part of xxgk launches it (listings, screenshots, browser tests).

`playwright install` cannot download here; Debian's build is used instead. Without the
background-networking flags Chromium keeps dialling Google's hosts on a closed network.
"""

from __future__ import annotations

import os

CHROMIUM_PATH = os.environ.get("XXGK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Scrapy's download handlers for a crawl whose listings are rendered in Chromium (scrapy-playwright). Only
# requests marked meta playwright=True go to the browser; documents are always fetched by plain HTTP.
PLAYWRIGHT_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
