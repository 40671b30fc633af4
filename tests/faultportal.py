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

import html
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import hostile

SCENARIO_NETWORK = "127.0.1.0/24"  # the network a test allows the crawler to reach
TRAP_HOST = "127.0.0.2"  # loopback, but outside SCENARIO_NETWORK: any hit here is an SSRF escape
STALL_SECONDS = 45  # how long a stalled response holds the socket (longer than any test's download timeout)

Handler = Callable[["Request"], None]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# ---------------------------------------------------------------------------------------------------------------
# The good reports each scenario carries.


@dataclass
class SeedReport:
    """A hand-labelled report (an expected JSON of ../shared); the portal serves its renditions."""

    expected: dict

    @property
    def agency(self) -> str:
        return self.expected["agency"]

    @property
    def year(self) -> int:
        return int(self.expected["year"])

    def with_year(self, year: int) -> SeedReport:
        return SeedReport({**self.expected, "year": year})

    def variant(self) -> SeedReport:
        """The same agency's report for a neighbouring year (same template), for a second good document."""
        return self.with_year(self.year + 1 if self.year >= 2021 else self.year - 1)

    def page(self, kind: str = "html") -> bytes:
        return hostile.rendition(self.expected, kind)


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
    listing: Handler | None = None  # replaces the normal listing page
    host: str = ""  # set by the portal
    port: int = 0
    seed: SeedReport | None = None
    hits: Counter = field(default_factory=Counter)

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
        while sent < 64 << 20 and not r.portal.stopping.is_set():
            h.wfile.write(b"\0" * 65536)
            sent += 65536
            r.portal.stopping.wait(0.05)
    except OSError:
        pass
    r.portal.bytes_sent[r.path] += sent


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
    r.portal.bytes_sent[r.path] += sent
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
            "PDF with no text layer",
            "parse:no_text",
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
            "too_large",
            page(lambda: hostile.docx_zip_bomb(), DOCX_TYPE),
        ),
        (
            "docx_entities",
            "DOCX with an XML entity bomb",
            "parse:unreadable",
            page(lambda: hostile.docx_entity_bomb(), "application/msword"),
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
            routes={"fault/report.html": page(lambda: hostile.huge_html_table(50_000))},
            fault_links=[(_link(0), "/fault/report.html")],
        )
    )

    for i, sc in enumerate(out):
        sc.seed = seeds[i % len(seeds)]
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


class FaultPortal:
    """All scenario portals plus the trap. Use as a context manager; `stop()` releases stalled handlers."""

    def __init__(self, seeds: list[SeedReport], scenarios: list[str] | None = None):
        self.stopping = threading.Event()
        self.bytes_sent: Counter = Counter()
        self.trap_hits: list[str] = []
        self.log: list[tuple[str, str, int]] = []  # (scenario, path, status or -1)
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
        self.trap_port = self._serve(TRAP_HOST, None)
        for i, sc in enumerate(self.scenarios):
            sc.host = f"127.0.1.{10 + i}"
            if sc.name == "portal_down":
                sc.port = _closed_port(sc.host)
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


def _closed_port(host: str) -> int:
    """A port on `host` that nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load_seeds(paths: list[Path], expected: Callable[[Path], dict]) -> list[SeedReport]:
    return [SeedReport(expected(p)) for p in paths]
