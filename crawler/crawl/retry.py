"""BackoffRetryMiddleware: Scrapy's retry with exponential backoff and Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries 5xx/429/timeouts after a delay: Retry-After when the server sends one, else an
    exponential backoff with jitter. A Retry-After beyond XXGK_MAX_RETRY_AFTER gives up on the request."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("XXGK_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("XXGK_RETRY_BACKOFF_MAX", 120.0)
        self.max_retry_after = settings.getfloat("XXGK_MAX_RETRY_AFTER", 600.0)

    async def process_request(self, request: Request):
        # Wall-clock time, not monotonic: in a distributed crawl the retry may be popped by another machine,
        # whose monotonic clock counts from its own boot.
        wait = request.meta.get("xxgk_retry_at", 0) - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        return None

    def process_response(self, request: Request, response: Response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = retry_after(response)
        if delay is not None and delay > self.max_retry_after:
            self.crawler.stats.inc_value("xxgk/retry_after_too_long")
            logger.warning("giving up on %s: Retry-After %.0fs exceeds %.0fs", request.url, delay, self.max_retry_after)
            return response
        retry = self._retry(request, f"{response.status}")
        if retry is None:
            return response
        return self._delayed(retry, delay)

    def process_exception(self, request: Request, exception: Exception):
        retry = super().process_exception(request, exception)
        return self._delayed(retry, None) if isinstance(retry, Request) else retry

    def _delayed(self, retry: Request, delay: float | None) -> Request:
        if delay is None:
            n = retry.meta.get("retry_times", 1)
            delay = min(self.cap, self.base * 2 ** (n - 1)) * random.uniform(0.8, 1.2)
        retry.meta["xxgk_retry_at"] = time.time() + delay
        self.crawler.stats.inc_value("xxgk/retry_backoff_seconds", round(delay, 2))
        return retry


def retry_after(response: Response) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), None when absent or unreadable."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
