"""Where xxgk may connect: one portal's domains and ports, and never a private address unless a network is allowed.

The policy every request is held to, whoever makes it (Scrapy's downloader, the JS-listing browser, the
screenshot browser). Cloned government pages on hijacked domains link back and forth between themselves,
so a crawl stays on the portal's own domains; URLs that point at private, loopback or link-local addresses
(SSRF) are refused unless the crawl explicitly allows that network (tests and the replica portals on
127.0.0.1). Ports are 80 and 443 plus the ones the registry writes into the portal's own URLs: an agency
host's other ports (admin consoles, databases, the CMS's management port) are not part of the portal.

This check runs before a request is made. Where the connection is made, the answer of the name lookup is
checked again (crawler/crawl/resolver.py for Scrapy), so a name that changes its answer in between
(DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

from crawler.registry import Portal

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

WEB_PORTS = frozenset({80, 443})
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def address_allowed(ip: IPAddress, allowed_networks: Iterable[Network]) -> bool:
    """A public address, or one inside a network the operator allowed (IPv4-mapped IPv6 judged as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global or any(ip in net for net in allowed_networks if net.version == ip.version)


def declared_ports(urls: Iterable[str | None]) -> frozenset[int]:
    """The ports written explicitly into URLs the operator registered (a replica on :8001, a portal on :8080)."""
    ports = set()
    for url in urls:
        try:
            port = urlsplit(url or "").port
        except ValueError:  # the registry's own typo: it admits nothing
            continue
        if port:
            ports.add(port)
    return frozenset(ports)


@lru_cache(maxsize=4096)
def resolve(host: str) -> tuple[IPAddress, ...]:
    """Addresses a host name resolves to (cached for the process). Empty when it does not resolve: the
    request is then let through to the connection, where the resolver (crawler/crawl/resolver.py) looks
    the name up again and fails closed."""
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
    ports: frozenset[int] = WEB_PORTS

    @classmethod
    def for_portal(cls, portal: Portal, allowed_networks: Iterable[Network] = ()) -> Confinement:
        """A registry portal's confinement: its domains, and 80/443 plus the ports its start URL, its home page
        and its agencies' listing URLs declare (replica and test portals serve on such ports)."""
        urls = [portal.start_url, portal.home_url, *(a.listing_url for a in portal.agencies)]
        return cls(
            tuple(d.strip().lower().rstrip(".") for d in portal.domains if d.strip()),
            tuple(allowed_networks),
            ports=WEB_PORTS | declared_ports(urls),
        )

    @classmethod
    def for_url(cls, url: str, allowed_networks: Iterable[Network] = ()) -> Confinement:
        """The narrowest confinement that still admits `url`: its own host and port only."""
        try:
            host = (urlsplit(url).hostname or "").rstrip(".").lower()
        except ValueError:
            host = ""
        return cls((host,) if host else (), tuple(allowed_networks), ports=WEB_PORTS | declared_ports([url]))

    def refusal(self, url: str) -> str | None:
        """None when the URL may be fetched, else the reason it may not: scheme | bad_url | offsite |
        private_address | port."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".").lower()
            port = parts.port
        except ValueError:  # `http://[bad/`, a port out of range: nothing can be fetched from it
            return "bad_url" if url.lower().startswith(("http:", "https:")) else "scheme"
        if parts.scheme not in ("http", "https"):
            return "scheme"
        if not host:
            return "offsite"
        reason = self._host_refusal(host)
        if reason is None and not self._port_ok(parts, port):
            return "port"
        return reason

    def _host_refusal(self, host: str) -> str | None:
        ip = _ip(host)
        if ip is not None:
            # An IP literal: private addresses are refused before anything else, even when listed.
            if not self.address_ok(ip):
                return "private_address"
            return None if str(ip) in self.domains or host in self.domains else "offsite"
        if not any(host == d or host.endswith("." + d) for d in self.domains):
            return "offsite"
        addresses = self.resolver(host)  # type: ignore[operator]
        if any(not self.address_ok(a) for a in addresses):
            return "private_address"
        return None

    def _port_ok(self, parts: SplitResult, port: int | None) -> bool:
        return (_DEFAULT_PORTS[parts.scheme] if port is None else port) in self.ports

    def address_ok(self, ip: IPAddress) -> bool:
        return address_allowed(ip, self.allowed_networks)

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
