"""Where xxgk may connect: one portal's domains, and never a private address unless a network is allowed.

The policy every request is held to, whoever makes it (Scrapy's downloader, the JS-listing browser, the
screenshot browser). Cloned government pages on hijacked domains link back and forth between themselves,
so a crawl stays on the portal's own domains; URLs that point at private, loopback or link-local addresses
(SSRF) are refused unless the crawl explicitly allows that network (tests and the replica portals on
127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network



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

    def aborts_browser_request(self, request) -> bool:
        """scrapy-playwright's PLAYWRIGHT_ABORT_REQUEST for a spider rendering its listing in Chromium: the
        browser fetches scripts, styles and XHRs itself, past Scrapy's middlewares, so the same confinement
        applies there; images, fonts and media are never needed to read a list."""
        if request.resource_type in _SKIPPED_RESOURCES:
            return True
        refused = self.refusal(request.url) is not None
        if refused:
            logger.warning("browser request refused: %s", request.url)
        return refused


_SKIPPED_RESOURCES = {"image", "media", "font"}


def refuse_browser_request(request) -> bool:
    """The browser's default when no spider set its Confinement: fetch nothing (fail closed)."""
    logger.warning("browser request refused (no confinement): %s", request.url)
    return True
