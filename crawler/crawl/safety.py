"""SafetyMiddleware: Scrapy's requests held to the spider's Confinement (crawler.confinement).

It runs before robots.txt is fetched, so a refused host is never contacted at all. It also makes sure the
reactor connects through crawler.crawl.resolver.ConfinedResolver, which judges the name's answer again where
the connection is made (DNS rebinding, failed lookups).

BadLinkMiddleware counts the links a page held that are not URLs at all (spiders.base.pages leaves them
out) as refusals too, so they show in the crawl summary instead of vanishing.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from crawler.confinement import Confinement
from crawler.crawl import resolver

logger = logging.getLogger(__name__)

# Where spiders.base.pages leaves the hrefs of a page that are not URLs, for BadLinkMiddleware.
BAD_LINKS_META = "xxgk_bad_links"


class Refused(IgnoreRequest):
    """A URL xxgk will not fetch; `reason` is offsite | private_address | port | scheme | bad_url."""

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
        resolver.install(crawler)
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


class BadLinkMiddleware:
    """A spider middleware: after a page's callback, count the hrefs it could not read (recorded in the
    response's meta by spiders.base.pages) as refused `bad_url`, once per href and page, and log them."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_spider_output(self, response, result):
        yield from result
        self._count(response)

    async def process_spider_output_async(self, response, result):
        async for item in result:
            yield item
        self._count(response)

    def _count(self, response) -> None:
        for href in dict.fromkeys(response.meta.pop(BAD_LINKS_META, None) or ()):
            self.crawler.stats.inc_value("xxgk/refused/bad_url")
            logger.warning("refused bad_url link %r on %s", href[:200], response.url)
