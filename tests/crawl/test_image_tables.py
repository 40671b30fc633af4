"""图片版 reports: an HTML report page whose three tables are PNG screenshots of a real report's tables.

The page is our TRS rendition of the real Huai'an report (tests/support/renditions.py); headless Chromium
screenshots each of its tables, and each <table> is replaced by an <img> of its screenshot. Read with its images
(OCR of each, where it stands) the page must give the same cells as the HTML original; the crawler fetches the
images of the article body (not the page chrome's) over real HTTP from a loopback server, with the page.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.renditions import report_from, trs_page

from crawler.browser import CHROMIUM_ARGS, CHROMIUM_PATH
from crawler.parsing import build_report, parse_bytes
from crawler.parsing.readers.html import content_images, read_html

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_TABLE = re.compile(r"<div align=center>\s*<table class=MsoNormalTable.*?</table></div>", re.S)


@pytest.fixture(scope="module")
def original(shared) -> bytes:
    expected = json.loads((shared / "real" / "expected" / "huaian-city-gov-2024.json").read_text())
    page = trs_page(report_from(expected))
    logo = '<div class="logo"><img src="/images/logo.png" alt="门户网站"></div>'
    return page.replace('<div class="logo">门户网站</div>', logo).encode()  # chrome has an image too


@pytest.fixture(scope="module")
def screenshots(original) -> list[bytes]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            # Twice the CSS resolution, as a screenshot on a HiDPI screen or Word's picture export gives; at 1x
            # (96 dpi, digits 9 pixels high) one 0 of the 200 cells reads unsure: null, never a guess.
            page = browser.new_page(viewport={"width": 1100, "height": 900}, device_scale_factor=2)
            page.set_content(original.decode(), wait_until="load")
            shots = [t.screenshot(type="png") for t in page.query_selector_all("table.MsoNormalTable")]
        finally:
            browser.close()
    assert len(shots) == 3
    return shots


@pytest.fixture(scope="module")
def image_page(original) -> bytes:
    count = iter(range(1, 10))
    page, n = _TABLE.subn(lambda _: f'<p align=center><img src="tables/t{next(count)}.png" width="700"></p>', original.decode())
    assert n == 3
    return page.encode()


def test_content_images_are_the_article_bodys(image_page, original):
    assert content_images(image_page, "http://127.0.0.1/zwgk/2025/t1.html") == [
        f"http://127.0.0.1/zwgk/2025/tables/t{i}.png" for i in (1, 2, 3)
    ]  # not the logo of the page's header
    assert content_images(original, "http://127.0.0.1/zwgk/2025/t1.html") == []  # it prints its tables


def test_an_image_table_page_reads_as_its_html_original(original, image_page, screenshots):
    url = "http://127.0.0.1/zwgk/2025/t1.html"
    images = {f"http://127.0.0.1/zwgk/2025/tables/t{i}.png": png for i, png in enumerate(screenshots, 1)}
    want = parse_bytes(original)
    got = build_report(read_html(image_page, images=images, page_url=url))
    assert got.values() == want.values()
    assert (got.agency, got.year, got.template) == (want.agency, want.year, want.template)
    ocr = next(f for f in got.findings if f.rule == "parse.ocr")
    assert set(ocr.cells) == set(got.cells) and ocr.data["text"] is False  # provenance: tables only


def test_without_its_images_the_page_has_no_cells(image_page):
    report = build_report(read_html(image_page))
    assert not any(v is not None for v in report.values().values())


class _Portal(BaseHTTPRequestHandler):
    files: dict[str, tuple[str, bytes]] = {}
    requested: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.requested.append(self.path)
        kind, body = self.files.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in self.files else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def portal(image_page, screenshots):
    _Portal.requested = []
    _Portal.files = {"/zwgk/2025/t1.html": ("text/html; charset=utf-8", image_page)}
    _Portal.files.update({f"/zwgk/2025/tables/t{i}.png": ("image/png", png) for i, png in enumerate(screenshots, 1)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_crawler_archives_the_pages_images_and_they_read_as_the_original(portal, original, tmp_path):
    """`xxgk crawl --url` of the 图片版 page over real HTTP: the page and its three table images are archived
    (the page last, the images as its documents; the header's logo is not fetched), and the archived page read
    with its archived images gives the HTML original's cells."""
    from storage import Archive

    db = tmp_path / "xxgk.db"
    page_url = f"{portal}/zwgk/2025/t1.html"
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--url", page_url, "--agency", "淮安市人民政府",
         "--kind", "government", "--allow-network", "127.0.0.1/32", "-q", "--json", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=False"],
        capture_output=True, text=True, timeout=900, env={**os.environ, "TELNETCONSOLE_ENABLED": "False"},
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "/images/logo.png" not in _Portal.requested
    with Archive(db) as archive:
        page = archive.documents.known(page_url)
        pictures = {f"{portal}/zwgk/2025/tables/t{i}.png": archive.documents.known(f"{portal}/zwgk/2025/tables/t{i}.png")
                    for i in (1, 2, 3)}  # fmt: skip
        assert page is not None and all(pictures.values())
        assert archive.documents.known(f"{portal}/images/logo.png") is None
        images = {url: Path(rec.path).read_bytes() for url, rec in pictures.items()}
        html = Path(page.path).read_bytes()
        # what the crawl itself archived: the page parsed with its images, as the original
        row = archive.conn.execute("SELECT id, parse_status FROM reports WHERE source_url = ?", (page_url,)).fetchone()
        assert row is not None and row["parse_status"] == "ok", row and dict(row)
        crawled = {k: c.value for k, c in archive.reports.cells(row["id"]).items()}
    expected = parse_bytes(original).values()
    assert crawled == {k: v for k, v in expected.items() if k in crawled} and len(crawled) == len(expected)
    got = build_report(read_html(html, images=images, page_url=page_url))
    assert got.values() == expected
