"""A fault-injection portal: real HTTP on 127.0.0.1, one misbehaving government site per scenario.

Each scenario is a small portal of its own, on its own loopback address (127.0.1.N), so that the crawler sees
separate domains: a listing page (the 年报 column) that links one agency's good reports and one or more faulty
URLs. The good reports are rendered here from the seeds (an inline HTML report page and a DOCX attachment), the
faults are served on demand by path: stalls, drips, 5xx, 429 with Retry-After, resets, redirect loops, endless
pagination, lying charsets and content types, bombs, a 2 GB Content-Length, and links to private addresses and
look-alike domains. A separate trap server on 127.0.0.2 (outside the networks a test allows) counts any request
that reaches it: it must stay at zero.

    with FaultPortal(seeds) as portal:
        for sc in portal.scenarios: print(sc.name, portal.start_url(sc))
"""

from __future__ import annotations

import functools
import html
import json
import re
import socket
import struct
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from support import hostile
from support.serving import free_port

SCENARIO_NETWORK = "127.0.1.0/24"  # the network a test allows the crawler to reach
TRAP_HOST = "127.0.0.2"  # loopback, but outside SCENARIO_NETWORK: any hit here is an SSRF escape
STALL_SECONDS = 45  # how long a stalled response holds the socket (longer than any test's download timeout)

Handler = Callable[["Request"], None]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---------------------------------------------------------------------------------------------------------------
# The good reports each scenario carries.


@dataclass
class SeedReport:
    """A hand-labelled report (an expected JSON of ../shared); the portal serves its renditions.

    `original_agency` is the seed's own agency when the report was renamed: DOCX renditions are then built once
    for the seed and renamed inside the package, so forty portals cost five DOCX builds, not forty."""

    expected: dict
    original_agency: str | None = None

    @property
    def agency(self) -> str:
        return self.expected["agency"]

    @property
    def year(self) -> int:
        return int(self.expected["year"])

    def with_year(self, year: int) -> SeedReport:
        return SeedReport({**self.expected, "year": year}, self.original_agency)

    def renamed(self, agency: str) -> SeedReport:
        return SeedReport({**self.expected, "agency": agency}, self.original_agency or self.agency)

    def variant(self) -> SeedReport:
        """The same agency's report for a neighbouring year (same template), for a second good document."""
        return self.with_year(self.year + 1 if self.year >= 2021 else self.year - 1)

    def page(self, kind: str = "html") -> bytes:
        if kind != "docx" or self.original_agency is None:
            return hostile.rendition(self.expected, kind)
        base = _docx_rendition(json.dumps({**self.expected, "agency": self.original_agency}, sort_keys=True))
        return _rename_in_package(base, self.original_agency, self.agency)


_DOCX_LOCK = threading.Lock()


@functools.lru_cache(maxsize=64)
def _docx_cached(key: str) -> bytes:
    return hostile.rendition(json.loads(key), "docx")


def _docx_rendition(key: str) -> bytes:
    with _DOCX_LOCK:  # one build per seed, even when forty portals ask at once
        return _docx_cached(key)


def _rename_in_package(docx: bytes, old: str, new: str) -> bytes:
    import io
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith(".xml"):
                data = data.replace(old.encode(), new.encode())
            dst.writestr(info.filename, data)
    return out.getvalue()


def report_title(agency: str, year: int) -> str:
    return f"{agency}{year}年政府信息公开工作年度报告"


def attachment_page(agency: str, year: int, href: str, label: str) -> bytes:
    title = report_title(agency, year)
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='PubDate' content='{year + 1}-01-25 10:00'></head><body><h1>{title}</h1>"
        f"<p>发布时间：{year + 1}-01-25</p><p>附件：<a href='{href}'>{html.escape(label)}</a></p></body></html>"
    ).encode()


# ---------------------------------------------------------------------------------------------------------------
# Scenarios.


@dataclass
class Scenario:
    name: str
    fault: str  # what the site does wrong, in a few words
    expect: str  # what the crawl should record for the faulty URLs: ok | http_error | timeout | connection |
    # redirect | refused | too_large | parse:<reason> | portal_down | paged
    routes: dict[str, Handler] = field(default_factory=dict)  # path below the scenario root → handler
    pattern_routes: list[tuple[re.Pattern, Handler]] = field(default_factory=list)
    fault_links: list[tuple[str, str]] = field(default_factory=list)  # (link text, href) on the listing
    recovered: list[str] = field(default_factory=list)  # paths of good reports behind a fault that clears
    health: bool = False  # a crawler-health finding is expected for this portal
    refuse: dict[str, int] = field(default_factory=dict)  # with expect ok: links refused beside the good reports
    listing: Handler | None = None  # replaces the normal listing page
    host: str = ""  # set by the portal
    port: int = 0
    seed: SeedReport | None = None
    hits: Counter = field(default_factory=Counter)
    bytes_sent: int = 0  # body bytes a size fault managed to send before the crawler hung up

    @property
    def agency(self) -> str:
        assert self.seed is not None
        return self.seed.agency

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path}"

    def expected_reports(self) -> list[str]:
        """URLs of every document the crawl must archive as a parsed report: the two good ones of the agency
        (an inline HTML page and a DOCX attachment), plus the good documents behind faults that clear."""
        if self.name in WHOLE_PORTAL_FAULTS:
            return []
        return [self.url(p) for p in (*GOOD_PATHS, *self.recovered)]


GOOD_PATHS = ("good/report.html", "good/report.docx")
WHOLE_PORTAL_FAULTS = ("listing_500", "listing_stall", "portal_down")
# Prefecture-level cities: each scenario's agency is the 人民防空办公室 of one of them.
CITIES = (
    "杭州 宁波 湖州 绍兴 金华 衢州 舟山 台州 丽水 南京 无锡 徐州 常州 苏州 南通 连云港 盐城 扬州 镇江 泰州 宿迁 "
    "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城 福州 厦门 莆田 三明 泉州 "
    "漳州 南平 龙岩 宁德 济南 青岛 烟台 潍坊"
).split()
_RECOVERED_YEAR = 2010  # a fault that recovers serves this agency's report re-labelled as 2010 (, 2011, ...)
_FAULT_YEAR = 2015  # faulty links are labelled as this agency's reports of 2015, 2016, ...


@dataclass
class Request:
    """What a handler sees: the live socket handler plus the scenario and the portal."""

    http: BaseHTTPRequestHandler
    scenario: Scenario | None
    portal: FaultPortal
    path: str

    def send(
        self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict | None = None
    ) -> None:
        h = self.http
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def stall(self, seconds: float = STALL_SECONDS) -> None:
        self.portal.stopping.wait(seconds)

    def reset(self) -> None:
        """Close with TCP RST (SO_LINGER 0), not a graceful FIN."""
        self.http.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.http.connection.close()
        self.http.close_connection = True


# --- handler factories -------------------------------------------------------------------------------------------


def page(body: bytes | Callable[[], bytes], ctype: str = "text/html; charset=utf-8") -> Handler:
    return lambda r: r.send(200, body() if callable(body) else body, ctype)


def status(code: int, headers: dict | None = None) -> Handler:
    body = f"<html><body><h1>{code}</h1><p>服务器繁忙，请稍后再试</p></body></html>".encode()
    return lambda r: r.send(code, body, headers=headers)


def stall_forever(r: Request) -> None:
    r.stall()


def drip(r: Request) -> None:
    """Headers at once, then one byte a second: a server that never quite finishes."""
    h = r.http
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "100000")
    h.end_headers()
    for _ in range(STALL_SECONDS):
        try:
            h.wfile.write(b" ")
            h.wfile.flush()
        except OSError:
            return
        if r.portal.stopping.wait(1):
            return


def slow_then(seconds: float, inner: Handler) -> Handler:
    def handler(r: Request) -> None:
        r.stall(seconds)
        inner(r)

    return handler


def flaky(failures: int, fail: Handler, then: Handler) -> Handler:
    """`fail` for the first `failures` requests to this path, `then` afterwards (a transient outage)."""

    def handler(r: Request) -> None:
        assert r.scenario is not None
        (fail if r.scenario.hits[r.path] <= failures else then)(r)

    return handler


def reset(r: Request) -> None:
    r.reset()


def reset_mid_body(r: Request) -> None:
    h = r.http
    h.send_response(200)
    h.send_header("Content-Type", "application/pdf")
    h.send_header("Content-Length", "400000")
    h.end_headers()
    h.wfile.write(b"%PDF-1.7\n" + b"x" * 2000)
    h.wfile.flush()
    r.reset()


def empty_reply(r: Request) -> None:
    r.http.connection.close()
    r.http.close_connection = True


def redirect(location: str | Callable[[Request], str], code: int = 302) -> Handler:
    def handler(r: Request) -> None:
        target = location(r) if callable(location) else location
        r.send(code, b"", headers={"Location": target})

    return handler


def huge_length(r: Request) -> None:
    """Announce 2 GB, then trickle: the crawler must give up from the header, not after reading."""
    h = r.http
    h.send_response(200)
    h.send_header("Content-Type", "application/pdf")
    h.send_header("Content-Length", str(2 * 1024**3))
    h.end_headers()
    sent = 0
    try:
        h.wfile.write(b"%PDF-1.7\n")
        while sent < 256 << 20 and not r.portal.stopping.is_set():
            h.wfile.write(b"\0" * 65536)
            sent += 65536
            r.portal.stopping.wait(0.05)
    except OSError:
        pass
    r.scenario.bytes_sent += sent  # type: ignore[union-attr]


def endless_chunked(r: Request) -> None:
    """No Content-Length at all: chunks until the client hangs up (or 512 MB)."""
    h = r.http
    h.protocol_version = "HTTP/1.1"
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    chunk = b"%PDF-1.7\n" + b"\0" * (1 << 20)
    sent = 0
    try:
        while sent < 512 << 20 and not r.portal.stopping.is_set():
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except OSError:
        pass
    r.scenario.bytes_sent += sent  # type: ignore[union-attr]
    h.close_connection = True


def gzip_bomb_page(size: int = 1 << 30) -> Handler:
    """A page whose gzip Content-Encoding inflates to `size` bytes."""
    cache: list[bytes] = []

    def handler(r: Request) -> None:
        if not cache:
            raw, crc = hostile._deflated_zeros(size)
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            cache.append(header + raw + struct.pack("<II", crc, size & 0xFFFFFFFF))
        r.send(200, cache[0], headers={"Content-Encoding": "gzip"})

    return handler


# --- the scenario list ----------------------------------------------------------------------------------------------


def _huge_title(r: Request) -> str:
    assert r.scenario is not None
    return report_title(r.scenario.agency, _FAULT_YEAR)


def _link(i: int) -> str:
    return f"{_FAULT_YEAR + i}年政府信息公开工作年度报告"


def build_scenarios(seeds: list[SeedReport]) -> list[Scenario]:
    """Every fault, with the links its listing shows and what the crawl must record."""
    real_pdf = hostile.real_pdf_bytes()

    def recovered(sc_seed: SeedReport) -> Handler:
        """The agency's report served through a fault that eventually clears: labelled as year 2010."""
        return page(sc_seed.with_year(_RECOVERED_YEAR).page())

    def attach(sc: Scenario, name: str, handler: Handler, label: str, year: int = _FAULT_YEAR) -> None:
        """A report page (fine) that links an attachment (the fault)."""
        sc.routes[f"fault/{name}.html"] = lambda r: r.send(
            200, attachment_page(sc.agency, year, f"/fault/{name}.bin", label)
        )
        sc.routes[f"fault/{name}.bin"] = handler
        sc.fault_links.append((_link(year - _FAULT_YEAR), f"/fault/{name}.html"))

    def single(name: str, fault: str, expect: str, handler: Handler, **kw) -> Scenario:
        sc = Scenario(name, fault, expect, **kw)
        sc.routes["fault/report.html"] = handler
        sc.fault_links.append((_link(0), "/fault/report.html"))
        return sc

    out: list[Scenario] = [
        single("stall", "report page never answers", "timeout", stall_forever),
        single("slow_drip", "one byte a second, never finishes", "timeout", drip),
        single("http_500", "500 Internal Server Error", "http_error", status(500)),
        single("http_502", "502 Bad Gateway", "http_error", status(502)),
        single("http_503", "503 Service Unavailable, always", "http_error", status(503)),
        single("http_404", "report page gone (404)", "http_error", status(404)),
        single("throttled_429", "429 with Retry-After: 1, always", "http_error", status(429, {"Retry-After": "1"})),
        single("retry_after_huge", "429 with Retry-After: 1 day", "http_error", status(429, {"Retry-After": "86400"})),
        single("connection_reset", "TCP reset before any byte", "connection", reset),
        single("empty_reply", "connection closed without a response", "connection", empty_reply),
        single("redirect_loop", "redirect a → b → a", "redirect", redirect("/fault/loop_b.html")),
        single("redirect_chain", "endless redirect chain /n → /n+1", "redirect", redirect("/fault/chain/1")),
        single(
            "redirect_private",
            "302 to the cloud metadata address",
            "refused",
            redirect("http://169.254.169.254/latest/meta-data/"),
        ),
        single(
            "redirect_lookalike",
            "302 to a look-alike domain",
            "refused",
            redirect("http://gov.cn.example.com/2015/report.html"),
        ),
    ]
    by_name = {sc.name: sc for sc in out}
    by_name["redirect_loop"].routes["fault/loop_b.html"] = redirect("/fault/report.html")
    by_name["redirect_chain"].pattern_routes.append(
        (re.compile(r"fault/chain/(\d+)"), redirect(lambda r: f"/fault/chain/{int(r.path.rsplit('/', 1)[1]) + 1}"))
    )

    # Faults that clear: the document behind them is good and must be archived. Their handlers need the
    # scenario's seed, so they are bound once the seeds are dealt (below).
    recovering: dict[str, Callable[[SeedReport], Handler]] = {
        "flaky_503": lambda s: flaky(2, status(503), recovered(s)),
        "retry_after_429": lambda s: flaky(1, status(429, {"Retry-After": "1"}), recovered(s)),
        "flaky_reset": lambda s: flaky(1, reset, recovered(s)),
        "slow_but_ok": lambda s: slow_then(1, recovered(s)),
    }
    for name, fault in [
        ("flaky_503", "503 twice, then the report"),
        ("retry_after_429", "429 with Retry-After: 1 once, then the report"),
        ("flaky_reset", "reset once, then the report"),
        ("slow_but_ok", "answers after 1 s (inside the timeout)"),
    ]:
        sc = Scenario(name, fault, "ok", recovered=["fault/report.html"])
        sc.fault_links.append((f"{_RECOVERED_YEAR}年政府信息公开工作年度报告", "/fault/report.html"))
        out.append(sc)

    # Endless pagination: index_N.html exists for every N.
    paged = Scenario("infinite_pagination", "index_N.html for every N (createPageHTML says 100000 pages)", "paged")
    out.append(paged)

    # Document faults behind a normal report page.
    doc_faults = [
        (
            "html_instead_of_pdf",
            "200 + HTML error page where a PDF was linked",
            "parse:not_a_report",
            page("<html><head><title>错误</title></head><body>您访问的页面不存在或已被删除</body></html>".encode()),
        ),
        (
            "truncated_pdf",
            "PDF cut at 40 %",
            "parse:unreadable",
            page(hostile.truncated(real_pdf, 0.4), "application/pdf"),
        ),
        (
            "encrypted_pdf",
            "password-protected PDF",
            "parse:encrypted",
            page(hostile.encrypted_pdf(), "application/pdf"),
        ),
        (
            "scanned_pdf",
            "PDF with no text layer, one title line as pixels (OCR reads it: no report tables in it)",
            "parse:not_a_report",
            page(lambda: hostile.image_only_pdf(["2015年政府信息公开工作年度报告"]), "application/pdf"),
        ),
        (
            "zip_bomb",
            "zip attachment inflating to 1 GiB",
            "too_large",
            page(lambda: hostile.zip_bomb(), "application/zip"),
        ),
        (
            "docx_bomb",
            "DOCX whose document.xml inflates to 1 GiB",
            "parse:too_large",
            page(lambda: hostile.docx_zip_bomb(), DOCX_TYPE),
        ),
        (
            "docx_entities",
            "DOCX with an XML entity bomb",
            "parse:unreadable",
            page(lambda: hostile.docx_entity_bomb(), "application/msword"),
        ),
        (
            "html_span_bomb",
            "report table with colspan=1000 rowspan=0 (56 KB)",
            "parse:too_large",
            page(hostile.html_span_bomb),
        ),
        (
            "docx_span_bomb",
            "DOCX with gridSpan=1000 on every cell (140 KB)",
            "parse:too_large",
            page(hostile.docx_span_bomb, DOCX_TYPE),
        ),
        (
            "pdf_stream_bomb",
            "2 MB PDF whose page lists one 2 GB Flate stream 8 times",
            "parse:too_large",
            page(hostile.pdf_flate_bomb, "application/pdf"),
        ),
        ("content_length_2gb", "Content-Length: 2 GB", "too_large", huge_length),
        ("endless_download", "chunked download that never ends", "too_large", endless_chunked),
        ("reset_mid_body", "reset in the middle of a PDF", "connection", reset_mid_body),
    ]
    for name, fault, expect, handler in doc_faults:
        sc = Scenario(name, fault, expect, health=expect.startswith("parse:"))
        attach(sc, "doc", handler, "2015年报告全文.pdf")
        out.append(sc)

    gz = single("gzip_bomb", "Content-Encoding: gzip inflating to 1 GiB", "too_large", gzip_bomb_page())
    out.append(gz)

    # One malformed link must not drop the listing: the report beside it is archived, the link refused.
    bad_link = Scenario(
        "bad_link",
        "a listing link http://[bad/ beside the report",
        "ok",
        recovered=["fault/report.html"],
        refuse={"bad_url": 2},
    )
    bad_link.fault_links += [(_link(1), "http://[bad/2016.html"), (_link(2), "http://[::1")]
    bad_link.fault_links.append((f"{_RECOVERED_YEAR}年政府信息公开工作年度报告", "/fault/report.html"))
    out.append(bad_link)
    recovering["bad_link"] = recovered

    # Charset and content-type lies that hide good reports: these must be archived with their cells.
    lies = Scenario("gbk_declared_utf8", "GBK page whose meta says UTF-8", "ok", recovered=["fault/report.html"])
    lies.fault_links.append((f"{_RECOVERED_YEAR}年政府信息公开工作年度报告", "/fault/report.html"))
    out.append(lies)
    recovering["gbk_declared_utf8"] = lambda s: page(s.with_year(_RECOVERED_YEAR).page("html-gbk-lie"))
    mislabeled = Scenario(
        "pdf_as_html", "a PDF report served as text/html from a .html URL", "ok", recovered=["fault/huaian_pdf.html"]
    )
    out.append(mislabeled)
    # the real PDF is 淮安市人民政府 2024: its own agency, reported on its own
    mislabeled.routes["fault/huaian.html"] = lambda r: r.send(
        200, attachment_page("淮安市人民政府", 2024, "/fault/huaian_pdf.html", "报告全文")
    )
    mislabeled.routes["fault/huaian_pdf.html"] = page(real_pdf, "text/html; charset=utf-8")
    mislabeled.fault_links.append(("淮安市人民政府2024年政府信息公开工作年度报告", "/fault/huaian.html"))

    # Where the crawler must not go.
    trap = f"http://{TRAP_HOST}:{{trap_port}}"
    out.append(
        Scenario(
            "private_links",
            "links to 10.0.0.1, 169.254.169.254, 192.168.1.1, [::1], 127.0.0.2, 0.0.0.0",
            "refused",
            fault_links=[
                (_link(0), "http://10.0.0.1/2015/report.html"),
                (_link(1), "http://169.254.169.254/latest/meta-data/iam/"),
                (_link(2), "http://192.168.1.1/report.html"),
                (_link(3), "http://[::1]/report.html"),
                (_link(4), f"{trap}/report.html"),
                (_link(5), "http://0.0.0.0/report.html"),
                (_link(6), "http://[::ffff:10.0.0.1]/report.html"),
                (_link(7), "http://2130706434/report.html"),
            ],
        )
    )
    out.append(
        Scenario(
            "lookalike_links",
            "links to gov.cn.example.com, xxgov.cn, the portal's host under another domain",
            "refused",
            fault_links=[
                (_link(0), "http://gov.cn.example.com/2015/report.html"),
                (_link(1), "http://xxgov.cn/2015/report.html"),
                (_link(2), "http://{host}.evil.example/2015/report.html"),
                (_link(3), "https://www.gov.cn.hijacked.example/2015/report.html"),
                (_link(4), "ftp://{host}/report.pdf"),
            ],
        )
    )

    # Whole-portal faults.
    out.append(
        Scenario("listing_500", "the 年报 column itself answers 500", "portal_down", listing=status(500), health=True)
    )
    out.append(
        Scenario("listing_stall", "the 年报 column never answers", "portal_down", listing=stall_forever, health=True)
    )
    out.append(Scenario("portal_down", "nothing listens on the portal's port", "portal_down", health=True))
    out.append(
        Scenario(
            "malformed_listing",
            "listing with unclosed tags, NUL bytes and a stray BOM",
            "ok",
            listing=lambda r: r.send(200, _malformed_listing(r.scenario)),
        )
    )
    out.append(
        Scenario(
            "huge_table_page",
            "a report page with a 50,000-row table",
            "parse",
            routes={"fault/report.html": lambda r: r.send(200, hostile.huge_html_table(50_000, _huge_title(r)))},
            fault_links=[(_link(0), "/fault/report.html")],
        )
    )

    for i, sc in enumerate(out):
        # one agency per portal (its own name, a seed's figures): reports of different portals never meet
        sc.seed = seeds[i % len(seeds)].renamed(f"{CITIES[i % len(CITIES)]}市人民防空办公室")
        if sc.name in recovering:
            sc.routes["fault/report.html"] = recovering[sc.name](sc.seed)
    return out


def listing_page(sc: Scenario, page_no: int = 0, pages: int = 1, trap_port: int = 0) -> bytes:
    """The agency's 年报 column: the good reports, then the faulty links (TRS-style paging when pages > 1)."""
    assert sc.seed is not None
    variant = sc.seed.variant()
    links = (
        [
            (report_title(sc.agency, sc.seed.year), "/good/report.html"),
            (report_title(sc.agency, variant.year), "/good/attachment.html"),
        ]
        if page_no == 0
        else []
    )
    if page_no == 0:
        links += [
            (sc.agency + t if t[0].isdigit() else t, h.format(trap_port=trap_port, host=sc.host))
            for t, h in sc.fault_links
        ]
    items = "".join(
        f"<li><a href='{html.escape(h)}' title='{html.escape(t)}'>{html.escape(t)}</a><span>2024-01-20</span></li>"
        for t, h in links
    )
    nav = ""
    if pages > 1:
        nxt = f"index_{page_no + 1}.html"
        nav = f'<script>createPageHTML({pages}, {page_no}, "index", "html");</script><a href=\'{nxt}\'>下一页</a>'
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>政府信息公开年报 - {sc.agency}</title></head><body>"
        f"<div class='nav'><a href='/'>首页</a> &gt; 政府信息公开 &gt; 政府信息公开年报</div>"
        f"<ul class='list'>{items}</ul>{nav}</body></html>"
    ).encode()


def _malformed_listing(sc: Scenario | None) -> bytes:
    assert sc is not None
    good = listing_page(sc)
    broken = good.replace(b"</li>", b"\x00").replace(b"</ul>", b"").replace(b"</body>", b"<table><tr><td>")
    return b"\xef\xbb\xbf" + broken.replace(b"</html>", b"")


# ---------------------------------------------------------------------------------------------------------------
# The servers.


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        pass  # a crawler hanging up mid-answer is expected here, not worth a traceback


class FaultPortal:
    """All scenario portals plus the trap. Use as a context manager; `stop()` releases stalled handlers."""

    def __init__(self, seeds: list[SeedReport], scenarios: list[str] | None = None):
        self.stopping = threading.Event()
        self.trap_hits: list[str] = []
        self._lock = threading.Lock()
        every = build_scenarios(seeds)
        self.scenarios = [sc for sc in every if scenarios is None or sc.name in scenarios]
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> FaultPortal:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        for sc in self.scenarios:  # build the DOCX attachments now, not while a crawler waits for them
            assert sc.seed is not None
            sc.seed.variant().page("docx")
        self.trap_port = self._serve(TRAP_HOST, None)
        for i, sc in enumerate(self.scenarios):
            sc.host = f"127.0.1.{10 + i}"
            if sc.name == "portal_down":
                sc.port = free_port(sc.host)
            else:
                sc.port = self._serve(sc.host, sc)

    def _serve(self, host: str, scenario: Scenario | None) -> int:
        portal = self

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args) -> None:  # quiet: the portal keeps its own log
                pass

            def do_GET(self) -> None:
                portal._dispatch(self, scenario)

            do_HEAD = do_GET
            do_POST = do_GET

        server = _Server((host, 0), Handle)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)
        return server.server_address[1]

    def stop(self) -> None:
        self.stopping.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def start_url(self, sc: Scenario) -> str:
        return f"http://{sc.host}:{sc.port}/index.html"

    def _dispatch(self, http: BaseHTTPRequestHandler, scenario: Scenario | None) -> None:
        path = http.path.split("?", 1)[0].lstrip("/")
        if scenario is None:  # the trap: record, then serve a convincing clone so that an escape is visible
            with self._lock:
                self.trap_hits.append(f"{http.headers.get('Host')} {http.path}")
            Request(http, None, self, path).send(200, _cloned_page())
            return
        with self._lock:
            scenario.hits[path] += 1
        req = Request(http, scenario, self, path)
        try:
            self._route(req, scenario, path)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the crawler hung up: that is its right

    def _route(self, req: Request, sc: Scenario, path: str) -> None:
        assert sc.seed is not None
        if path == "robots.txt":
            return req.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if path in ("", "index.html"):
            if sc.listing:
                return sc.listing(req)
            pages = 100_000 if sc.name == "infinite_pagination" else 1
            return req.send(200, listing_page(sc, 0, pages, self.trap_port))
        m = re.fullmatch(r"index_(\d+)\.html", path)
        if m and sc.name == "infinite_pagination":
            return req.send(200, listing_page(sc, int(m[1]), 100_000))
        if path == "good/report.html":
            return req.send(200, sc.seed.page())
        if path == "good/attachment.html":
            v = sc.seed.variant()
            return req.send(200, attachment_page(sc.agency, v.year, "/good/report.docx", f"{v.year}年报告.docx"))
        if path == "good/report.docx":
            return req.send(200, sc.seed.variant().page("docx"), DOCX_TYPE)
        if path in sc.routes:
            return sc.routes[path](req)
        for pattern, handler in sc.pattern_routes:
            if pattern.fullmatch(path):
                return handler(req)
        req.send(404, b"<html><body>404</body></html>")


def _cloned_page() -> bytes:
    return (
        "<html><head><title>某某市人民政府2015年政府信息公开工作年度报告</title></head><body>"
        "<h1>某某市人民政府2015年政府信息公开工作年度报告</h1><p>SSRF-ESCAPED-TRAP-CONTENT</p></body></html>"
    ).encode()


def load_seeds(paths: list[Path], expected: Callable[[Path], dict]) -> list[SeedReport]:
    return [SeedReport(expected(p)) for p in paths]


# ---------------------------------------------------------------------------------------------------------------
# Crawling the fault portals and judging what the archive recorded (shared by tests/test_faults.py and
# bench/faults.py).

# Short timeouts (10 s: long enough for a loaded 2-core machine) and few, short retries keep one crawl of every
# fault portal around a minute.
FAST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_TIMEOUT": "10",
    "RETRY_TIMES": "2",
    "XXGK_RETRY_BACKOFF_BASE": "0.2",
    "XXGK_RETRY_BACKOFF_MAX": "1",
    "XXGK_MAX_RETRY_AFTER": "5",
    "DOWNLOAD_MAXSIZE": str(5 << 20),
    "DOWNLOAD_WARNSIZE": str(4 << 20),
    "XXGK_MAX_PAGES_PER_PORTAL": "30",
    "XXGK_PARALLEL_PORTALS": "64",
}
# What the crawl must record for each kind of fault (crawler/spiders/base/outcome.py's vocabulary).
FAILURE_EXPECTED = {"timeout", "http_error", "connection", "redirect", "too_large"}
TRAP_MARK = "SSRF-ESCAPED-TRAP-CONTENT"


def portal_id(sc: Scenario) -> str:
    return f"fault-{sc.name}"


def registry_text(portal: FaultPortal) -> str:
    """A registry declaring every fault portal (generic CMS, its own loopback host as its only domain)."""
    lines = ["portals:"]
    for sc in portal.scenarios:
        lines += [
            f"  - id: {portal_id(sc)}",
            f"    name: {sc.agency}",
            "    cms: generic",
            f"    start_url: {portal.start_url(sc)}",
            f"    domains: [{sc.host}]",
            "    agencies:",
            f"      - {{name: {sc.agency}, kind: department, first_year: 2019}}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Verdict:
    scenario: Scenario
    outcome: str  # what the archive recorded, in a few words
    rows_lost: int  # good reports of this portal missing from the archive
    problems: list[str]  # ways the recorded outcome differs from the expected one

    @property
    def ok(self) -> bool:
        return not self.problems and self.rows_lost == 0


def judge(sc: Scenario, conn, pid: str, trap_hits: int) -> Verdict:
    """Read what one crawl recorded about portal `pid` and hold it against the scenario's expectation."""
    import json

    run = conn.execute("SELECT status, note FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
    note = json.loads(run["note"] or "{}").get(pid, {}) if run else {}
    failures = note.get("failures", [])
    refused = note.get("refused", {})
    status_row = conn.execute(
        "SELECT status, error FROM crawl_portal_status WHERE portal_id = ? ORDER BY run_id DESC LIMIT 1", (pid,)
    ).fetchone()
    portal_status = status_row["status"] if status_row else note.get("status")
    reports = {
        r["source_url"]: r
        for r in conn.execute(
            "SELECT source_url, parse_status, parse_reason, cells_count FROM reports WHERE portal_id = ?", (pid,)
        )
    }
    health = [
        r["state"]
        for r in conn.execute("SELECT state, tags FROM alerts WHERE kind = 'health'")
        if pid in json.loads(r["tags"] or "[]")
    ]
    lost = [
        u
        for u in sc.expected_reports()
        if not (u in reports and reports[u]["parse_status"] == "ok" and reports[u]["cells_count"])
    ]
    problems: list[str] = [f"lost {u.split('/', 3)[3]}" for u in lost]
    if run is None or run["status"] == "running":
        problems.append("the crawl run was not recorded as finished")
    if trap_hits:
        problems.append(f"{trap_hits} request(s) reached the trap server")
    fault_prefix = sc.url("fault/")
    fault_failures = [f for f in failures if f["url"].startswith(fault_prefix) or f.get("role") in ("hub", "listing")]
    reasons = sorted({f["reason"] for f in fault_failures})

    expect = sc.expect
    if expect in FAILURE_EXPECTED:
        detail = "; ".join(f"{f['reason']} {f['detail'][:60]}".strip() for f in fault_failures[:2])
        outcome = f"recorded: {detail}" if fault_failures else "nothing recorded"
        if expect not in reasons:
            problems.append(f"expected a '{expect}' failure, recorded {reasons or 'none'}")
        # bytes sent, not read: loopback socket buffers hold a few MB the crawler never reads
        if sc.bytes_sent > 4 * int(FAST_SETTINGS["DOWNLOAD_MAXSIZE"]):
            problems.append(f"{sc.bytes_sent >> 20} MB were sent before the crawler gave up")
    elif expect == "refused":
        outcome = (
            "refused: " + ", ".join(f"{k}×{v}" for k, v in sorted(refused.items())) if refused else "nothing refused"
        )
        wanted = len([h for _, h in sc.fault_links if not h.startswith("ftp:")]) or 1
        if sum(refused.values()) < wanted:
            problems.append(f"{wanted} links to refuse, {sum(refused.values())} refused")
    elif expect.startswith("parse:"):
        reason = expect.split(":", 1)[1]
        doc = reports.get(sc.url("fault/doc.bin"))
        outcome = f"kept, parse {doc['parse_status']}: {doc['parse_reason']}" if doc else "document not kept"
        if doc is None or doc["parse_status"] != "failed" or doc["parse_reason"] != reason:
            problems.append(f"expected the document kept with reason '{reason}'")
        if sc.health and "parse_failed" not in health:
            problems.append("no crawler-health alert for the parse failure")
    elif expect == "portal_down":
        outcome = f"portal {portal_status}" + (", health alert" if "unreachable" in health else "")
        if portal_status not in ("unreachable", "error"):
            problems.append(f"portal recorded as {portal_status}, not unreachable")
        if "unreachable" not in health:
            problems.append("no crawler-health alert for the unreachable portal")
    elif expect == "paged":
        pages = sum(n for path, n in sc.hits.items() if path.startswith("index"))
        outcome = f"{pages} listing pages fetched, then stopped"
        if pages > int(FAST_SETTINGS["XXGK_MAX_PAGES_PER_PORTAL"]) + 1:
            problems.append(f"{pages} listing pages: the page cap did not hold")
    elif expect == "parse":  # a page too big to be a report: kept (as a report or as a page), in bounded time
        url = sc.url("fault/report.html")
        doc = reports.get(url)
        page = conn.execute("SELECT 1 FROM document_urls WHERE url = ?", (url,)).fetchone()
        if doc is not None:
            outcome = f"kept as a report, parse {doc['parse_status']}" + (
                f": {doc['parse_reason']}" if doc["parse_reason"] else ""
            )
        else:
            outcome = "kept as a page (no report in it)" if page else "not kept"
        if doc is None and page is None:
            problems.append("the huge page was not kept")
    else:  # ok: the fault hid good documents, which must all be archived
        outcome = "all reports archived" if not lost else "reports missing"
        if portal_status not in ("ok",):
            problems.append(f"portal recorded as {portal_status}")
        if sc.refuse:
            outcome += ", refused: " + ", ".join(f"{k}×{v}" for k, v in sorted(refused.items()))
            problems += [f"{n} {k} refusals expected" for k, n in sc.refuse.items() if refused.get(k, 0) < n]
    return Verdict(sc, outcome, len(lost), problems)


def xxgk(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=root
    )


def crawl_and_check(
    portal: FaultPortal, workdir: Path, names: list[str] | None = None
) -> tuple[Path, subprocess.CompletedProcess]:
    """Crawl the fault portals (all, or the named scenarios) into a fresh archive in `workdir`, then run the checks
    once (dry run) so that crawler-health alerts are raised. Returns the database and the crawl's process result.
    XXGK_FAULT_SETTINGS (JSON) adds Scrapy settings, for experiments."""
    import json
    import os

    registry = workdir / "registry.yaml"
    registry.write_text(registry_text(portal), encoding="utf-8")
    db = workdir / "xxgk.db"
    settings = {**FAST_SETTINGS, **json.loads(os.environ.get("XXGK_FAULT_SETTINGS", "{}"))}
    args = ["crawl", *[f"fault-{n}" for n in names or []], "--registry", str(registry), "--db", str(db)]
    args += ["--allow-network", SCENARIO_NETWORK, "-q", "--json"]
    for key, value in settings.items():
        args += ["-s", f"{key}={value}"]
    crawled = xxgk(*args)
    check = ["check", "--db", str(db), "--registry", str(registry), "--today", "2025-06-01", "--dry-run"]
    check += ["--no-screenshots", "--unreachable-runs", "1"]
    checked = xxgk(*check)
    if checked.returncode not in (0, 1):
        raise RuntimeError(f"xxgk check failed: {checked.stderr[-2000:]}")
    return db, crawled


def open_archive(db: Path):
    from storage.db import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def trap_content_archived(conn) -> int:
    return conn.execute("SELECT count(*) FROM report_texts WHERE full_text LIKE ?", (f"%{TRAP_MARK}%",)).fetchone()[0]
