"""Debian's Chromium, as every part of xxgk launches it, and the gate every confined page goes through.

`playwright install` cannot download here; Debian's build is used instead. Without the
background-networking flags Chromium keeps dialling Google's hosts on a closed network.

A page of an untrusted portal (the JS-listing browser, the screenshot browser) is confined twice:

- `BrowserGate` is the page's only way to the network. Every HTTP request the page makes is fetched by
  Playwright on the page's behalf (`route.fetch(max_redirects=0)`), one redirect hop at a time, each hop
  judged by the portal's `Confinement` before it is requested. Chromium's own routing would follow a
  redirect without showing the hop to the route handler, so the gate never lets Chromium fetch anything
  itself. WebSockets, EventSource, beacons and popups are refused; service workers are blocked on the
  context (`CONFINED_CONTEXT`).
- `CONFINED_CHROMIUM_ARGS` give Chromium no direct network at all: every connection it would open itself
  goes to a proxy whose name never resolves. Whatever a page finds that the gate does not see (a WebSocket
  made in a fresh iframe, a preconnect, WebRTC, a popup's first request) fails to connect.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urljoin

from crawler.confinement import Confinement

logger = logging.getLogger(__name__)

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
# No direct connections from Chromium: a proxy that cannot be reached (its name is refused by the host resolver
# rules, and loopback is not exempted from it), and WebRTC limited to that proxy. Requests the gate fetches on
# the page's behalf are made by Playwright, not by Chromium, so they are unaffected.
NO_DIRECT_NETWORK_ARGS = [
    "--proxy-server=http://xxgk-no-direct-connections.invalid:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]
CONFINED_CHROMIUM_ARGS = [*CHROMIUM_ARGS, *NO_DIRECT_NETWORK_ARGS]
# A service worker's fetches bypass page routes: none may register.
CONFINED_CONTEXT: dict[str, Any] = {"service_workers": "block"}

# Scrapy's download handlers for a crawl whose listings are rendered in Chromium (scrapy-playwright's, one
# instance for both schemes: crawler/crawl/listing_browser.py). Only requests marked meta playwright=True go to
# the browser; documents are always fetched by plain HTTP.
PLAYWRIGHT_HANDLERS = {
    "http": "crawler.crawl.listing_browser.ListingBrowserHandler",
    "https": "crawler.crawl.listing_browser.ListingBrowserHandler",
}

# Requests no listing or screenshot needs, and whose endless or fire-and-forget nature is a risk on its own.
REFUSED_RESOURCES = frozenset({"eventsource", "websocket", "ping", "manifest"})
LISTING_SKIPPED_RESOURCES = frozenset({"image", "media", "font"})  # not needed to read a list
SCREENSHOT_SKIPPED_RESOURCES = frozenset({"media"})  # the evidence should look like the page
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_HOPS = 5  # like Scrapy's REDIRECT_MAX_TIMES
FETCH_TIMEOUT_MS = 20_000
MAX_BODY_BYTES = 50 * 1024 * 1024  # like Scrapy's DOWNLOAD_MAXSIZE
IDLE_MS = 3_000  # how long to wait for "networkidle" after "load": a page that streams forever still renders

# Runs in every frame before the page's own scripts. The gate refuses these requests anyway; removing the
# objects stops scripts from waiting on them (an endless EventSource kept "networkidle" from ever firing).
INIT_SCRIPT = """
(() => {
  const drop = (owner, name) => {
    try { Object.defineProperty(owner, name, {value: undefined, writable: false, configurable: false}); }
    catch (e) {}
  };
  for (const name of ["WebSocket", "EventSource", "WebTransport", "RTCPeerConnection",
                      "webkitRTCPeerConnection", "RTCDataChannel"]) drop(window, name);
  if (typeof Navigator !== "undefined") drop(Navigator.prototype, "sendBeacon");
  drop(navigator, "sendBeacon");
})();
"""

_HEAD = re.compile(rb"<head[^>]*>", re.I)
_HAS_BASE = re.compile(rb"<base\s", re.I)

Refused = Callable[[str, str], None]  # (url, reason)


class BrowserGate:
    """One portal's confinement applied to a Chromium page (Playwright's async API).

    `confine_page(page)` installs it; it doubles as scrapy-playwright's `playwright_page_init_callback`.
    `refused` lists what the page tried and was refused, `(url, reason)`, for the log and the evidence.
    """

    def __init__(
        self,
        confinement: Confinement,
        *,
        skipped: frozenset[str] = LISTING_SKIPPED_RESOURCES,
        on_refused: Refused | None = None,
        fetch_timeout_ms: float = FETCH_TIMEOUT_MS,
    ) -> None:
        self.confinement = confinement
        self.skipped = skipped
        self.on_refused = on_refused
        self.fetch_timeout_ms = fetch_timeout_ms
        self.refused: list[tuple[str, str]] = []

    async def confine_page(self, page, request: Any = None) -> None:
        """Route every request of the page through the gate, refuse WebSockets, close popups. Registered
        last, the gate's route runs before any other handler (scrapy-playwright's own, which would let
        Chromium follow redirects unseen)."""
        await page.add_init_script(script=INIT_SCRIPT)
        await page.route_web_socket("**/*", self._refuse_web_socket)
        await page.route("**/*", self.handle)
        page.on("popup", self._close_popup)

    async def handle(self, route, request) -> None:
        """A route handler: refuse, or fetch hop by hop and fulfil. Never lets the request go on to Chromium."""
        try:
            await self._serve(route, request)
        except Exception as e:  # page closed mid-fetch, the server reset, a timeout: the request just fails
            logger.debug("browser request %s failed: %s", request.url, str(e).splitlines()[0] if str(e) else e)
            with suppress(Exception):
                await route.abort("failed")

    async def _serve(self, route, request) -> None:
        if request.resource_type in self.skipped:
            await route.abort("blockedbyclient")
            return
        reason = "resource:" + request.resource_type if request.resource_type in REFUSED_RESOURCES else None
        reason = reason or self.confinement.refusal(request.url)
        if reason:
            self._refuse(request.url, reason)
            await route.abort("blockedbyclient")
            return
        final_url, response = await self._follow(route, request)
        if response is None:
            await route.abort("blockedbyclient")
            return
        await self._fulfil(route, request, final_url, response)

    async def _follow(self, route, request) -> tuple[str, Any]:
        """Fetch `request`, following redirects one hop at a time; each hop is judged before it is fetched.
        Returns (final URL, response), or (URL, None) when a hop was refused."""
        url, method, data = request.url, request.method, request.post_data_buffer
        for _ in range(MAX_HOPS + 1):
            response = await route.fetch(
                url=url, method=method, post_data=data, max_redirects=0, timeout=self.fetch_timeout_ms
            )
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return url, response
            target = urljoin(url, location)
            reason = self.confinement.refusal(target)
            if reason:
                self._refuse(target, f"redirect:{reason}")
                return target, None
            if response.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, data = "GET", None
            url = target
        self._refuse(url, "redirect:too_many")
        return url, None

    async def _fulfil(self, route, request, final_url: str, response) -> None:
        body = await response.body()
        if len(body) > MAX_BODY_BYTES:
            self._refuse(final_url, "too_large")
            await route.abort("blockedbyclient")
            return
        if final_url == request.url or request.resource_type != "document":
            await route.fulfill(response=response, body=body)
            return
        # Redirected document: Chromium still thinks it is at the first URL, so relative links are resolved
        # against the URL the content really came from.
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        await route.fulfill(status=response.status, headers=headers, body=with_base(body, final_url))

    def _refuse(self, url: str, reason: str) -> None:
        self.refused.append((url, reason))
        logger.warning("browser request refused (%s): %s", reason, url)
        if self.on_refused is not None:
            self.on_refused(url, reason)

    async def _refuse_web_socket(self, ws) -> None:
        """Never connected to a server: the page's socket is closed at once."""
        self._refuse(ws.url, "websocket")
        with suppress(Exception):  # the page may be gone already; the socket reaches no server either way
            await ws.close(code=1008, reason="refused by xxgk")

    async def _close_popup(self, popup) -> None:
        self._refuse(popup.url, "popup")
        with suppress(Exception):  # it may have closed itself
            await popup.close()


def with_base(body: bytes, url: str) -> bytes:
    """`body` with a `<base href>` naming `url`, unless the page sets its own base."""
    if _HAS_BASE.search(body[:65536]):
        return body
    tag = b'<base href="' + url.replace('"', "%22").encode() + b'">'
    match = _HEAD.search(body[:65536])
    if match:
        return body[: match.end()] + tag + body[match.end() :]
    return tag + body


async def settle(page, idle_ms: float = IDLE_MS) -> None:
    """Wait for "networkidle" after "load", but only so long: a page that polls or streams forever (an
    endless EventSource) is rendered as it is instead of timing out as unreachable."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    with suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=idle_ms)
