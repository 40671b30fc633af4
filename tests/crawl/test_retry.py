"""What a crawl tries again (crawler/crawl/retry.py with crawler/settings.py), and when."""

from __future__ import annotations

import time

import scrapy
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.crawl.retry import BackoffRetryMiddleware


def middleware() -> BackoffRetryMiddleware:
    """The middleware with the project's retry settings (the rest of them would want a reactor)."""
    names = ("RETRY_EXCEPTIONS", "RETRY_TIMES", "XXGK_RETRY_BACKOFF_BASE", "XXGK_RETRY_BACKOFF_MAX")
    crawler = get_crawler(scrapy.Spider, {name: getattr(project, name) for name in names})
    crawler.spider = scrapy.Spider.from_crawler(crawler, name="portal")
    return BackoffRetryMiddleware.from_crawler(crawler)


def test_a_javascript_listing_that_did_not_load_in_time_is_tried_again_later():
    """Playwright's TimeoutError is no OSError: Scrapy's own list would give the listing up at once (all five JS
    portals of the national replay's distributed first crawl, on a loaded machine)."""
    request = Request("http://127.0.0.1:9/zfxxgknb/index.html", meta={"playwright": True})
    retry = middleware().process_exception(request, PlaywrightTimeoutError("Page.goto: Timeout 30000ms exceeded."))
    assert isinstance(retry, Request) and retry.meta["retry_times"] == 1
    # The moment to try again is wall-clock time: in a distributed crawl another machine may pop the retry.
    assert time.time() < retry.meta["xxgk_retry_at"] < time.time() + project.XXGK_RETRY_BACKOFF_MAX


def test_a_request_that_failed_for_another_reason_is_not_tried_again():
    assert middleware().process_exception(Request("http://127.0.0.1:9/"), ValueError("not a download failure")) is None
