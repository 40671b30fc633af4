"""The browsers' side of the one confinement, in real Debian Chromium against real HTTP on loopback.

A registry portal's listing page carries everything a hostile or hijacked page can use to make Chromium reach
an address the portal may not: an iframe, images (one on 169.254.169.254), a stylesheet and a script from the
trap, fetch() to it directly and through a same-origin URL that redirects there, a WebSocket (also from a fresh
about:blank iframe, where an init script may not have run), a never-ending EventSource, a beacon, a popup, a
preconnect. The trap (a second loopback address standing for the metadata service) counts every TCP connection
it accepts: it must count none, and its magenta "secret" must not be drawn into the evidence.

The JS-listing browser is tested through a real `xxgk crawl` of JavaScript portals: a list page whose next page
302s to the trap, and a portal whose start URL itself does.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import pytest
import webtrap
from webtrap import MAGENTA, SECRET, TRAP_HOST, Server, endless_event_stream, html, portal_of, redirect, seed_report

from crawler.confinement import Confinement, parse_networks
from crawler.monitor import screenshot
from crawler.registry import Agency, Portal

pytestmark = pytest.mark.browser

BAND = (255, 243, 191)  # the stamp's background (#fff3bf)


def hostile_parts(trap: Server, ws_port: int) -> str:
    t = trap.url("")
    return f"""
<iframe src="{t}/latest/meta-data/iam" width="400" height="300"></iframe>
<iframe src="/nb/hop-frame" width="400" height="300"></iframe>
<img src="{t}/metadata.png" width="200" height="200">
<img src="http://169.254.169.254/latest/meta-data/x.png" width="50" height="50">
<link rel="stylesheet" href="{t}/style.css"><link rel="preconnect" href="{t}/">
<div style="width:200px;height:200px;background:url('{t}/bg.png')"></div>
<script src="{t}/evil.js"></script>
<script>
  fetch("{t}/fetch").catch(() => 0);
  fetch("/nb/hop-fetch").then(r => r.text()).then(t => document.body.insertAdjacentHTML("beforeend", t)).catch(() => 0);
  try {{ new WebSocket("ws://{TRAP_HOST}:{ws_port}/ws"); }} catch (e) {{}}
  try {{ new EventSource("/nb/events"); }} catch (e) {{}}
  try {{ navigator.sendBeacon("{t}/beacon", "x"); }} catch (e) {{}}
  const f = document.createElement("iframe"); document.body.appendChild(f);
  try {{ new f.contentWindow.WebSocket("ws://{TRAP_HOST}:{ws_port}/ws2"); }} catch (e) {{}}
  try {{ new f.contentWindow.EventSource("/nb/events"); }} catch (e) {{}}
  window.open("{t}/popup");
</script>"""


def listing(report_title: str, extra: str = "") -> str:
    return (
        "<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body>"
        f"<h1>政府信息公开年报</h1><ul><li><a href='/nb/report.html'>{report_title}</a> 2021-01-20</li></ul>"
        f"{extra}</body></html>"
    )


@pytest.fixture
def hostile_site():
    """The portal on 127.0.0.1 and the trap on 127.0.0.2 (HTTP, and a bare socket for WebSockets)."""
    trap, sockets = webtrap.trap(), webtrap.trap()
    site = Server("127.0.0.1")
    title = seed_report().title
    site.routes = {
        "/nb/index.html": html(listing(title, hostile_parts(trap, sockets.port))),
        "/nb/clean.html": html(listing(title)),
        "/nb/hop-frame": redirect(trap.url("/latest/meta-data/")),
        "/nb/hop-fetch": redirect(trap.url("/latest/meta-data/")),
        "/nb/moved.html": redirect(trap.url("/nb/index.html")),
        "/nb/events": endless_event_stream,
    }
    yield site, trap, sockets
    for s in (site, trap, sockets):
        s.close()


def _confinement(site: Server) -> Confinement:
    """The portal's confinement as the registry gives it (its start URL carries the random port)."""
    portal = Portal("p", "温州市人民政府", "generic", site.url("/nb/index.html"), ("127.0.0.1",),
                    agencies=(Agency("温州市人民防空办公室", "department"),))  # fmt: skip
    return Confinement.for_portal(portal, parse_networks("127.0.0.1/32"))


def _pixels(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _magenta(png: bytes) -> int:
    colours = _pixels(png).getcolors(1 << 24) or []
    return sum(count for count, colour in colours if colour == MAGENTA)


def test_the_screenshot_browser_requests_nothing_off_policy_and_draws_none_of_it(hostile_site):
    site, trap, sockets = hostile_site
    started = time.monotonic()
    shots = screenshot.capture([site.url("/nb/index.html"), site.url("/nb/moved.html")], confinement=_confinement(site))
    seconds = time.monotonic() - started
    assert trap.connections == 0 and trap.hits == [], trap.hits
    assert sockets.connections == 0  # no WebSocket, no preconnect
    page, moved = shots
    assert page.png is not None, page.error
    assert _magenta(page.png) == 0  # nothing of the trap is in the evidence
    tried = {url for url, _reason in page.refused}
    t = trap.url("")
    for url in (f"{t}/latest/meta-data/iam", f"{t}/metadata.png", f"{t}/fetch", f"{t}/evil.js",
                "http://169.254.169.254/latest/meta-data/x.png", f"{t}/latest/meta-data/"):  # fmt: skip
        assert url in tried, (url, page.refused)  # the page did try: the test would prove nothing otherwise
    assert ("http://169.254.169.254/latest/meta-data/x.png", "private_address") in page.refused
    # A listing URL that redirects to the trap yields no image, and says why.
    assert moved.png is None and "refused" in moved.error and TRAP_HOST in moved.error, moved.error
    # The never-ending EventSource did not keep the page from being taken ("networkidle" is bounded).
    assert seconds < 40, seconds
    assert [u for u, _ in site.hits].count("/nb/events") == 0  # EventSource is gone before the page runs


def test_the_hostile_page_looks_like_the_page_without_its_hostile_parts(hostile_site):
    """The listing itself is drawn (its title and entries), from the portal only: the text band of the stamp
    and the list are there, the trap's content is not; the clean page renders the same list."""
    site, trap, _ = hostile_site
    hostile, clean = screenshot.capture(
        [site.url("/nb/index.html"), site.url("/nb/clean.html")], confinement=_confinement(site)
    )
    assert hostile.png and clean.png
    assert trap.connections == 0
    top_hostile = _pixels(hostile.png).crop((0, 0, 1280, 140))
    top_clean = _pixels(clean.png).crop((0, 0, 1280, 140))
    # The band differs only in the URL text; below it the list is identical.
    assert top_hostile.crop((0, 70, 1280, 140)).tobytes() == top_clean.crop((0, 70, 1280, 140)).tobytes()


def test_every_image_is_stamped_with_its_url_and_the_check_time_in_beijing(hostile_site):
    site, _, _ = hostile_site
    checked = datetime(2024, 4, 10, 1, 30, tzinfo=UTC)
    assert screenshot.beijing_time(checked) == "2024-04-10 09:30:00 北京时间 (UTC+8)"
    urls = [site.url("/nb/clean.html"), site.url("/nb/index.html")]
    (one,) = screenshot.capture(urls[:1], confinement=_confinement(site), checked_at=checked)
    assert one.checked_at == checked and one.urls == tuple(urls[:1])
    assert _pixels(one.png).getpixel((4, 4)) == BAND  # the stamp sits above the page
    (combined,) = screenshot.capture(urls, confinement=_confinement(site), checked_at=checked, combine=True)
    assert combined.urls == tuple(urls) and combined.url == urls[0]
    bands = _band_rows(_pixels(combined.png))
    assert len(bands) == 2, bands  # one stamp per page of the walked listing
    page = screenshot._Page(urls[0], b"", None, ())
    stamp = screenshot.stamp_html([page], checked)
    assert urls[0] in stamp and "2024-04-10 09:30:00 北京时间" in stamp


def _band_rows(image) -> list[int]:
    """The first row of each run of stamp-coloured rows at the left edge."""
    starts, inside = [], False
    for y in range(image.height):
        band = image.getpixel((2, y)) == BAND
        if band and not inside:
            starts.append(y)
        inside = band
    return starts


def test_without_a_confinement_a_url_is_confined_to_its_own_host_and_public_addresses(hostile_site):
    """The monitor has not passed the portal's confinement: nothing private is opened (fail closed)."""
    site, trap, _ = hostile_site
    (shot,) = screenshot.capture([site.url("/nb/index.html")])
    assert shot.png is None and "private_address" in shot.error
    assert [u for u, _ in site.hits] == [] and trap.connections == 0
    (missing,) = screenshot.capture([site.url("/nb/index.html")], confinement={})
    assert missing.png is None and "no confinement" in missing.error


# --- the JS-listing browser, in a real crawl ----------------------------------------------------------------------


def test_the_js_listing_browser_cannot_be_steered_off_site(tmp_path):
    """Two JavaScript portals crawled for real: one whose list is drawn by fetch() among every hostile part above
    and whose next list page 302s to the trap; one whose start URL 302s to the trap. The trap sees nothing, not
    even a connection; the first portal's report is archived; every browser request the portal saw carried
    xxgk's user agent (they were made by the gate, not by Chromium)."""
    report = seed_report()
    trap, sockets = webtrap.trap(), webtrap.trap()
    site = Server("127.0.0.1")
    drawn = (
        "<script>fetch('/js/list.json').then(r => r.json()).then(items => { for (const i of items)"
        " document.getElementById('list').insertAdjacentHTML('beforeend',"
        " `<li><a href='${i.href}'>${i.title}</a> 2021-01-20</li>`); });</script>"
    )
    page = (
        "<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body><ul id='list'></ul>"
        f"<a href='/js/index_1.html'>下一页</a>{hostile_parts(trap, sockets.port).replace('/nb/', '/js/')}{drawn}"
        "</body></html>"
    )
    entries = f'[{{"href": "/js/report.html", "title": "{report.title}"}}]'
    site.routes = {
        "/js/index.html": html(page),
        "/js/list.json": lambda _h: (200, {"Content-Type": "application/json"}, entries.encode()),
        "/js/index_1.html": redirect(trap.url("/js/index_1.html")),
        "/js/hop-frame": redirect(trap.url("/latest/meta-data/")),
        "/js/hop-fetch": redirect(trap.url("/latest/meta-data/")),
        "/js/events": endless_event_stream,
        "/js/report.html": lambda _h: (200, {"Content-Type": "text/html; charset=utf-8"}, report.page),
        "/moved/index.html": redirect(trap.url("/moved/index.html")),
    }
    registry = webtrap.write_registry(
        tmp_path / "registry.yaml",
        [
            {"id": "js-hostile", "agency": report.agency, "start_url": site.url("/js/index.html"),
             "domains": ["127.0.0.1"], "js": True},
            {"id": "js-moved", "agency": report.agency, "start_url": site.url("/moved/index.html"),
             "domains": ["127.0.0.1"], "js": True},
        ],
    )  # fmt: skip
    try:
        _, summary = webtrap.crawl(tmp_path, registry, "js-hostile", "js-moved")
    finally:
        for s in (site, trap, sockets):
            s.close()
    assert trap.connections == 0 and trap.hits == [], trap.hits
    assert sockets.connections == 0
    hostile = portal_of(summary, "js-hostile")
    assert hostile["reports_new"] == 1, hostile  # the list was drawn and read despite the endless EventSource
    assert hostile["refused"].get("redirect:private_address", 0) >= 2, hostile["refused"]  # start of hops refused
    assert hostile["refused"].get("private_address", 0) >= 3, hostile["refused"]
    moved = portal_of(summary, "js-moved")
    assert moved["status"] == "unreachable" and moved["reports_new"] == 0, moved
    assert moved["refused"] == {"redirect:private_address": 1}, moved
    browser = [ua for path, ua in site.hits if path in ("/js/index.html", "/js/list.json", "/moved/index.html")]
    assert browser and all(ua.startswith("xxgk/") for ua in browser), browser
    assert SECRET not in (tmp_path / "xxgk.db").read_bytes().decode("latin-1")
