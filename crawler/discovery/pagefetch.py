"""One page over HTTP(S), held to the crawler's Confinement, for tools that read a few pages outside a crawl
(`xxgk discover`). Scrapy is the crawler's downloader; a handful of sequential GETs do not need a reactor.

Every hop is judged by `Confinement.refusal` before it is requested, redirects included (followed by hand, at
most `max_redirects`). The connection goes to an address the confinement's own resolver returned when it judged
the URL (the lookup is cached), so a name cannot answer a public address to the check and a private one to the
connection; a name that does not resolve fails closed. Bodies are bounded (`max_bytes`, also after gzip), and
so is time: each socket operation by `timeout`, the whole request by `deadline`.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from crawler.confinement import Confinement

USER_AGENT = "xxgk/0.1 (open-government annual report monitor; discover)"
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    hops: tuple[str, ...] = ()  # the URLs redirected from, in order


class FetchError(Exception):
    """A page that could not be had: `reason` is refused | dns | connection | timeout | tls | too_large |
    http_error | redirect; `detail` says more (the confinement's refusal, the status)."""

    def __init__(self, url: str, reason: str, detail: str = ""):
        super().__init__(f"{reason}{f' ({detail})' if detail else ''}: {url}")
        self.url, self.reason, self.detail = url, reason, detail


class _HTTPSTo(http.client.HTTPSConnection):
    """TLS to a checked address, with the host name for SNI and certificate checks."""

    def __init__(self, address: str, port: int, server_name: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


@dataclass
class PageFetcher:
    confinement: Confinement
    timeout: float = 10.0
    deadline: float = 30.0
    max_bytes: int = 3_000_000
    max_redirects: int = 4
    user_agent: str = USER_AGENT

    def get(self, url: str) -> Page:
        hops: list[str] = []
        for _ in range(self.max_redirects + 1):
            status, headers, body = self._once(url)
            location = headers.get("location")
            if status in _REDIRECTS and location:
                hops.append(url)
                url = urljoin(url, location.strip())
                continue
            if status >= 400:
                raise FetchError(url, "http_error", str(status))
            return Page(url, status, body, headers.get("content-type", ""), tuple(hops))
        raise FetchError(url, "redirect", f"more than {self.max_redirects} redirects")

    def _once(self, url: str) -> tuple[int, dict[str, str], bytes]:
        refusal = self.confinement.refusal(url)
        if refusal:
            raise FetchError(url, "refused", refusal)
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._address(url, host)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = _HTTPSTo(address, port, host, self.timeout)
        else:
            conn = http.client.HTTPConnection(address, port, timeout=self.timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Host": parts.netloc.rsplit("@", 1)[-1],
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, identity",
            "Connection": "close",
        }
        started = time.monotonic()
        try:
            conn.request("GET", target, headers=headers)
            resp = conn.getresponse()
            body = self._read(resp, url, started)
            got = {k.lower(): v for k, v in resp.getheaders()}
        except TimeoutError as e:
            raise FetchError(url, "timeout", str(e) or f"{self.timeout:g}s") from e
        except ssl.SSLError as e:
            raise FetchError(url, "tls", e.reason or str(e)) from e
        except (OSError, http.client.HTTPException) as e:
            raise FetchError(url, "connection", str(e) or type(e).__name__) from e
        finally:
            conn.close()
        if "gzip" in got.get("content-encoding", ""):
            body = self._gunzip(body, url)
        return resp.status, got, body

    def _address(self, url: str, host: str) -> str:
        try:
            return str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            pass
        addresses = self.confinement.resolver(host)  # type: ignore[operator]  # the answer refusal() judged
        if not addresses:
            raise FetchError(url, "dns", f"{host} does not resolve")
        return str(addresses[0])

    def _read(self, resp: http.client.HTTPResponse, url: str, started: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() - started > self.deadline:
                raise FetchError(url, "timeout", f"more than {self.deadline:g}s")
            chunk = resp.read(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(url, "too_large", f"more than {self.max_bytes} bytes")
            chunks.append(chunk)

    def _gunzip(self, body: bytes, url: str) -> bytes:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = d.decompress(body, self.max_bytes + 1)
        except zlib.error as e:
            raise FetchError(url, "connection", f"bad gzip body: {e}") from e
        if len(out) > self.max_bytes:
            raise FetchError(url, "too_large", f"more than {self.max_bytes} bytes once decompressed")
        return out
