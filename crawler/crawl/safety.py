"""SafetyMiddleware: Scrapy's requests held to the spider's Confinement (crawler.confinement).

It runs before robots.txt is fetched, so a refused host is never contacted at all.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from crawler.confinement import Confinement

logger = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A URL xxgk will not fetch; `reason` is offsite | private_address | scheme."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused ({reason}): {url}")
        self.url = url
        self.reason = reason


class SafetyMiddleware:
    """Refuse what the spider's Confinement refuses; count and log each refusal by reason."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        spider = self.crawler.spider
        confinement: Confinement | None = getattr(spider, "confinement", None)
        if confinement is None:
            return None
        reason = confinement.refusal(request.url)
        if reason is None:
            return None
        self.crawler.stats.inc_value(f"xxgk/refused/{reason}")
        logger.warning(
            "refused %s URL %s (linked from %s)",
            reason,
            request.url,
            request.headers.get("Referer", b"").decode("latin-1") or "-",
        )
        raise Refused(request.url, reason)
