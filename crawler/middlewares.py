"""Downloader middlewares: where xxgk may go, what it downloads again, and how it backs off.

- `SafetyMiddleware` refuses URLs outside the portal's own domains (cloned government pages on hijacked
  domains link back and forth between themselves) and URLs that point at private, loopback or link-local
  addresses (SSRF), unless the crawl explicitly allows that network (tests and the replica portals on
  127.0.0.1). It runs before robots.txt is fetched, so a refused host is never contacted at all.
- `IncrementalMiddleware` skips documents the archive already holds, and every XXGK_RECHECK_DAYS sends a
  conditional GET for them instead; it also counts the documents actually downloaded.
- `BackoffRetryMiddleware` is Scrapy's retry with exponential backoff and Retry-After.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Refused(IgnoreRequest):
    """A URL xxgk will not fetch; `reason` is offsite | private_address | scheme."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"refused ({reason}): {url}")
        self.url = url
        self.reason = reason


class KnownDocument(IgnoreRequest):
    """The archive already holds this document and it is not due for a recheck."""


class UnchangedDocument(IgnoreRequest):
    """A conditional GET answered 304 Not Modified."""


def parse_networks(values: list[str] | str | None) -> tuple[Network, ...]:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values or ())


def _ip(host: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return ip


@lru_cache(maxsize=4096)
def resolve(host: str) -> tuple[IPAddress, ...]:
    """Addresses a host name resolves to (cached for the process). Empty when it does not resolve: the
    download then fails on its own, and is recorded like any unreachable page."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(ip for ip in (_ip(str(info[4][0])) for info in infos) if ip is not None)


@dataclass(frozen=True)
class Confinement:
    """The hosts one portal's crawl may contact.

    `domains` are registrable domains or exact hosts: `wenzhou.gov.cn` admits `www.wenzhou.gov.cn` but not
    `wenzhou.gov.cn.example.com` or `fakewenzhou.gov.cn`. An IP address in `domains` admits exactly that IP.
    """

    domains: tuple[str, ...]
    allowed_networks: tuple[Network, ...] = ()
    resolver: object = field(default=resolve, compare=False, repr=False)

    def refusal(self, url: str) -> str | None:
        """None when the URL may be fetched, else the reason it may not."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return "scheme"
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            return "offsite"
        ip = _ip(host)
        if ip is not None:
            # An IP literal: private addresses are refused before anything else, even when listed.
            if not self._address_ok(ip):
                return "private_address"
            return None if str(ip) in self.domains or host in self.domains else "offsite"
        if not any(host == d or host.endswith("." + d) for d in self.domains):
            return "offsite"
        addresses = self.resolver(host)  # type: ignore[operator]
        if any(not self._address_ok(a) for a in addresses):
            return "private_address"
        return None

    def _address_ok(self, ip: IPAddress) -> bool:
        return ip.is_global or any(ip in net for net in self.allowed_networks if net.version == ip.version)


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


class IncrementalMiddleware:
    """Documents (requests with meta xxgk_document=True) already archived are skipped or re-checked.

    The spider exposes `validators(url)` (from the archive): None, or an object with `etag`, `last_modified`
    and `fetched_at`/`last_seen`. A 304 answer raises UnchangedDocument so the spider's
    errback can carry on.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.recheck_days = crawler.settings.getfloat("XXGK_RECHECK_DAYS", 7.0)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        if not request.meta.get("xxgk_document") or request.meta.get("xxgk_conditional") is not None:
            return None
        lookup = getattr(self.crawler.spider, "validators", None)
        known = lookup(request.url) if lookup else None
        if known is None:
            request.meta["xxgk_conditional"] = False
            return None
        if not due_for_recheck(known, self.recheck_days):
            self.crawler.stats.inc_value("xxgk/documents_known_skipped")
            raise KnownDocument(request.url)
        etag, modified = getattr(known, "etag", None), getattr(known, "last_modified", None)
        if not (etag or modified):
            request.meta["xxgk_conditional"] = False  # nothing to make it conditional with: download, compare hash
            return None
        if etag:
            request.headers["If-None-Match"] = etag
        if modified:
            request.headers["If-Modified-Since"] = modified
        request.meta["xxgk_conditional"] = True
        return None

    def process_response(self, request: Request, response: Response):
        if not request.meta.get("xxgk_document"):
            return response
        stats = self.crawler.stats
        if response.status == 304 and request.meta.get("xxgk_conditional"):
            stats.inc_value("xxgk/documents_not_modified")
            raise UnchangedDocument(request.url)
        if 200 <= response.status < 300:
            stats.inc_value("xxgk/document_bytes", len(response.body))
        return response


def due_for_recheck(known, recheck_days: float) -> bool:
    """A known document is due for a conditional GET when its last fetch is older than recheck_days."""
    if recheck_days <= 0:
        return True
    stamp = getattr(known, "last_seen", None) or getattr(known, "fetched_at", None)
    if not stamp:
        return True
    from datetime import UTC, datetime

    try:
        seen = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return (datetime.now(UTC) - seen).total_seconds() >= recheck_days * 86400


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries 5xx/429/timeouts after a delay: Retry-After when the server sends one, else an
    exponential backoff with jitter. A Retry-After beyond XXGK_MAX_RETRY_AFTER gives up on the request."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("XXGK_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("XXGK_RETRY_BACKOFF_MAX", 120.0)
        self.max_retry_after = settings.getfloat("XXGK_MAX_RETRY_AFTER", 600.0)

    async def process_request(self, request: Request):
        wait = request.meta.get("xxgk_retry_at", 0) - time.monotonic()
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
        retry.meta["xxgk_retry_at"] = time.monotonic() + delay
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


# --- the browser (scrapy-playwright) -------------------------------------------------------------------------
# Chromium fetches scripts, styles and XHRs itself, past the middlewares above. Spiders rendering a listing in
# the browser register their Confinement here; the browser may then fetch only what some crawl in this
# process may fetch, and never images, fonts or media (not needed to read a list).
BROWSER_CONFINEMENTS: list[Confinement] = []
_SKIPPED_RESOURCES = {"image", "media", "font"}


def abort_browser_request(request) -> bool:
    if request.resource_type in _SKIPPED_RESOURCES:
        return True
    refused = all(c.refusal(request.url) is not None for c in BROWSER_CONFINEMENTS) if BROWSER_CONFINEMENTS else True
    if refused:
        logger.warning("browser request refused: %s", request.url)
    return refused
