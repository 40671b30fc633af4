"""ConfinedResolver: the name lookup Scrapy connects with, held to the same address rule as the Confinement.

SafetyMiddleware judges a URL before it is requested, resolving its host name to do so; Twisted then looks
the name up again to connect. Between the two, a name under an agency's domain could change its answer from
a public address to a private one (DNS rebinding). This resolver is the lookup the connection really uses:
every address a name resolves to must be public or inside an allowed network
(XXGK_ALLOWED_PRIVATE_NETWORKS), or the connection is refused; the checked answer is cached, so later
connections go to the address that was checked. A lookup that fails, or that answers nothing usable, fails
the connection (closed), where the request check lets it through to be tried here.

IP literals never reach a resolver (Twisted connects to them directly); SafetyMiddleware has judged them.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any

from scrapy.resolver import CachingThreadedResolver, dnscache
from twisted.internet import defer, threads
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from crawler.confinement import IPAddress, Network, address_allowed, parse_networks

logger = logging.getLogger(__name__)


class RefusedAnswer(DNSLookupError):
    """A name resolved to an address xxgk may not connect to."""


class ConfinedResolver(CachingThreadedResolver):
    """Scrapy's caching threaded resolver (IPv4, DNS_TIMEOUT), refusing non-public answers."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float, allowed_networks: tuple[Network, ...] = ()):
        super().__init__(reactor, cache_size, timeout)
        self.allowed_networks = allowed_networks

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> ConfinedResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        allowed = parse_networks(settings.getlist("XXGK_ALLOWED_PRIVATE_NETWORKS"))
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), allowed)

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        """The checked IPv4 address to connect to for `name` (IResolverSimple)."""
        if name in dnscache:
            return defer.succeed(dnscache[name])
        d = threads.deferToThreadPool(self.reactor, self.reactor.getThreadPool(), self.checked_address, name)
        d.addTimeout(self.timeout, self.reactor, onTimeoutCancel=_timeout_failure(name))
        if dnscache.limit:
            d.addCallback(self._cache_result, name)
        return d

    def checked_address(self, name: str) -> str:
        """Look `name` up and judge every answer (runs in the reactor's thread pool)."""
        return self.choose(name, self.lookup(name))

    def lookup(self, name: str) -> list[IPAddress]:
        """Every address `name` resolves to; DNSLookupError when it resolves to nothing."""
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:
            raise DNSLookupError(f"address {name!r} not found: {e}") from None
        return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]

    def choose(self, name: str, addresses: list[IPAddress]) -> str:
        """The address to connect to: the first IPv4 one, when no answer at all is private (one private answer
        makes the name suspect, as in Confinement.refusal)."""
        refused = [str(a) for a in addresses if not address_allowed(a, self.allowed_networks)]
        if refused:
            logger.warning("refused to connect to %s: it resolves to %s", name, ", ".join(refused))
            raise RefusedAnswer(f"refused: {name!r} resolves to a private address ({', '.join(refused)})")
        ipv4 = [str(a) for a in addresses if a.version == 4]
        if not ipv4:
            raise DNSLookupError(f"address {name!r} not found: no IPv4 address")
        return ipv4[0]


def _timeout_failure(name: str):
    """addTimeout's onTimeoutCancel: a lookup that outlasts DNS_TIMEOUT fails like any failed lookup."""

    def convert(result: Any, timeout: float) -> Failure:
        return Failure(DNSLookupError(f"address {name!r} not found: timeout error ({timeout:g} s)"))

    return convert


def install(crawler: Any) -> None:
    """Make the reactor connect through a ConfinedResolver. `scrapy crawl` (CrawlerProcess) installs
    TWISTED_DNS_RESOLVER itself; CrawlerRunner, which `xxgk crawl` uses, does not, so SafetyMiddleware calls
    this for every crawler. A resolver setting that is not a ConfinedResolver is replaced by one."""
    from scrapy.utils.misc import build_from_crawler, load_object
    from twisted.internet import reactor

    if isinstance(getattr(reactor, "resolver", None), ConfinedResolver):
        return
    cls = load_object(crawler.settings.get("TWISTED_DNS_RESOLVER") or ConfinedResolver)
    if not (isinstance(cls, type) and issubclass(cls, ConfinedResolver)):
        cls = ConfinedResolver
    build_from_crawler(cls, crawler, reactor=reactor).install_on_reactor()
