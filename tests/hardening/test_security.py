"""The security review (SECURITY.md), one test per claim.

1. Crawling is confined to the agency's domains; private, loopback and link-local targets are refused (SSRF),
   whatever notation the URL uses. (End to end over real HTTP: tests/test_faults.py, scenarios private_links,
   lookalike_links, redirect_private, redirect_lookalike.)
2. Downloaded files are never executed: stored read-only and non-executable, opened only by parsers, and
   LibreOffice runs in a throwaway profile with a timeout (tests/test_hostile_docs.py kills it at the timeout).
3. Datasette is served read-only: writes through the web are refused and the archive is unchanged.
4. apprise URLs (tokens) live only in the config file: not in the database, its WAL, or any output, even
   when deliveries fail and the log is at DEBUG.
5. Scraped text is escaped in notifications and in Datasette pages (and no script runs in a real browser).
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import hostile
from support.serving import free_port, serving
from support.shared import ROOT, expected_for, seed_paths

from crawler.confinement import Confinement, parse_networks
from crawler.ingest import ingest
from crawler.model import IncomingDocument

# --- 1. confinement and SSRF -------------------------------------------------------------------------------


def _resolver(table: dict[str, tuple[str, ...]]):
    """Name resolution as a table: the one collaborator Confinement takes by design (public names do not
    resolve on this offline machine)."""
    import ipaddress

    return lambda host: tuple(ipaddress.ip_address(a) for a in table.get(host, ()))


PORTAL = Confinement(
    ("wenzhou.gov.cn",),
    resolver=_resolver(
        {
            "www.wenzhou.gov.cn": ("202.107.1.10",),
            "xxgk.wenzhou.gov.cn": ("202.107.1.11",),
            "intranet.wenzhou.gov.cn": ("10.1.2.3",),  # an agency name pointing inside: still refused
            "rebind.wenzhou.gov.cn": ("202.107.1.12", "127.0.0.1"),  # any private answer refuses
        }
    ),
)

ALLOWED = [
    "http://www.wenzhou.gov.cn/zfxxgk/nb/index.html",
    "https://xxgk.wenzhou.gov.cn/art/2021/1/20/art_1.html",
    "http://WWW.Wenzhou.Gov.CN./nb/",  # case and the trailing root dot are the same host
]
REFUSED = {
    # private, loopback, link-local and unspecified addresses in every notation
    "http://10.0.0.1/nb/": "private_address",
    "http://169.254.169.254/latest/meta-data/": "private_address",
    "http://192.168.1.1/": "private_address",
    "http://172.16.0.1/": "private_address",
    "http://127.0.0.1:8001/xxgk": "private_address",
    "http://[::1]/": "private_address",
    "http://[::ffff:10.0.0.1]/": "private_address",
    "http://[fe80::1]/": "private_address",
    "http://[fd00::1]/": "private_address",
    "http://0.0.0.0/": "private_address",
    "http://100.64.0.1/": "private_address",  # carrier-grade NAT
    "http://2130706433/": "offsite",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/": "offsite",
    "http://017700000001/": "offsite",
    "http://127.1/": "offsite",
    "http://www.wenzhou.gov.cn@10.0.0.1/": "private_address",  # userinfo trick: the host is 10.0.0.1
    "http://intranet.wenzhou.gov.cn/": "private_address",
    "http://rebind.wenzhou.gov.cn/": "private_address",
    # look-alike and hijacked domains
    "http://wenzhou.gov.cn.example.com/nb/": "offsite",
    "http://fakewenzhou.gov.cn/nb/": "offsite",
    "http://xxgov.cn/": "offsite",
    "http://www.wenzhou.gov.cn.haose21.com/": "offsite",
    "http://www.wenzhou.gоv.cn/": "offsite",  # Cyrillic о
    "http://gov.cn/": "offsite",
    # not the web
    "file:///etc/passwd": "scheme",
    "ftp://www.wenzhou.gov.cn/report.pdf": "scheme",
    "javascript:alert(1)": "scheme",
    "data:text/html,<script>alert(1)</script>": "scheme",
    "gopher://www.wenzhou.gov.cn/": "scheme",
}


@pytest.mark.parametrize("url", ALLOWED)
def test_the_agency_domain_is_crawled(url: str):
    assert PORTAL.refusal(url) is None


@pytest.mark.parametrize("url,reason", REFUSED.items(), ids=list(REFUSED))
def test_outside_targets_are_refused(url: str, reason: str):
    assert PORTAL.refusal(url) == reason


def test_an_allowed_test_network_admits_only_itself():
    """The harness allows its own loopback network; every other private range stays closed."""
    confined = Confinement(("127.0.1.10",), parse_networks("127.0.1.0/24"), ports=frozenset({8080}))
    assert confined.refusal("http://127.0.1.10:8080/index.html") is None
    assert confined.refusal("http://127.0.1.11:8080/") == "offsite"  # allowed network, other portal
    assert confined.refusal("http://127.0.0.2:8080/") == "private_address"
    assert confined.refusal("http://10.0.0.1/") == "private_address"
    assert confined.refusal("http://127.0.1.10:8081/") == "port"  # the portal's host, another port


def _portal(start_url: str, domains: tuple[str, ...], listing_url: str | None = None):
    from crawler.registry import Agency, Portal

    agency = Agency("温州市人民政府", "government", listing_url=listing_url)
    return Portal("p", "温州市人民政府", "trs", start_url, domains, agencies=(agency,))


def test_only_the_web_ports_and_the_ports_the_registry_declares_are_allowed():
    """80 and 443 on an agency host, plus whatever port its start URL and listing URLs carry (replicas and
    test portals serve on random loopback ports); the agency host's other ports are not the portal."""
    portal = _portal(
        "http://www.wenzhou.gov.cn:8001/nb/", ("wenzhou.gov.cn",), listing_url="http://xxgk.wenzhou.gov.cn:9090/l/"
    )
    confined = Confinement.for_portal(portal)
    confined = Confinement(confined.domains, ports=confined.ports, resolver=PORTAL.resolver)
    assert confined.ports == {80, 443, 8001, 9090}
    for url in ("http://www.wenzhou.gov.cn/", "https://www.wenzhou.gov.cn/", "http://www.wenzhou.gov.cn:8001/a",
                "https://xxgk.wenzhou.gov.cn:443/", "http://xxgk.wenzhou.gov.cn:9090/"):  # fmt: skip
        assert confined.refusal(url) is None, url
    for url in ("http://www.wenzhou.gov.cn:22/", "http://www.wenzhou.gov.cn:8002/", "https://www.wenzhou.gov.cn:8443/",
                "http://www.wenzhou.gov.cn:6379/", "http://www.wenzhou.gov.cn:0/"):  # fmt: skip
        assert confined.refusal(url) == "port", url
    # Without a declared port, only the web ports.
    assert Confinement.for_portal(_portal("http://127.0.0.1/nb/", ("127.0.0.1",))).ports == {80, 443}


@pytest.mark.parametrize("url", ["http://[bad/", "http://www.wenzhou.gov.cn:99999/", "https://[::1/x", "http://a:b/"])
def test_a_url_that_is_not_one_is_refused_not_raised(url: str):
    """A malformed link reaches the policy as a reason, never as an exception in the middleware."""
    assert PORTAL.refusal(url) == "bad_url"


def test_a_failed_lookup_is_left_to_the_connection_which_fails_closed():
    """The request check cannot resolve the name: it lets it through to the connection, whose resolver
    (crawler.crawl.resolver) looks it up again and refuses, rather than guessing here."""
    from crawler.crawl.resolver import ConfinedResolver

    assert PORTAL.refusal("http://unknown.wenzhou.gov.cn/") is None  # not in the table: no answer
    resolver = ConfinedResolver(None, 0, 1.0)  # the reactor is only needed to run lookups in its thread pool
    with pytest.raises(Exception, match="not found"):
        resolver.checked_address("no-such-host.invalid")


def test_a_name_that_resolves_to_loopback_is_refused():
    """Real resolution (/etc/hosts): `localhost` listed as an agency domain is still loopback."""
    assert Confinement(("localhost",)).refusal("http://localhost:8001/") == "private_address"


# --- 2. downloaded files are never executed ---------------------------------------------------------------

# The only modules that may start processes, and what they start.
PROCESS_STARTERS = {
    "crawler/parsing/readers/office.py": "soffice (convert only, own profile, macros off, timeout)",
    "crawler/parsing/ocr_engines.py": "tesseract (OCR of page images, timeout)",
    "crawler/replica/demo.py": "`xxgk crawl` subprocesses against the replica portals (xxgk demo)",
}
_DANGEROUS_CALLS = {"system", "popen", "Popen", "run", "call", "check_call", "check_output", "exec", "eval", "execv",
                    "execve", "execvp", "spawnv", "startfile", "create_subprocess_exec", "create_subprocess_shell"}  # fmt: skip


def _dangerous_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else ""
            if name in _DANGEROUS_CALLS and owner in ("", "os", "subprocess", "asyncio", "builtins"):
                if name in ("run", "call") and owner == "":
                    continue  # a local function named run/call
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {owner + '.' if owner else ''}{name}")
    return found


def test_only_known_modules_start_processes_and_none_evaluates_code():
    calls = [
        c for d in ("crawler", "storage", "spiders") for p in (ROOT / d).rglob("*.py") for c in _dangerous_calls(p)
    ]
    unexpected = [c for c in calls if c.split(":")[0] not in PROCESS_STARTERS or " eval" in c or " exec" in c]
    assert unexpected == [], "process starts or eval/exec outside the reviewed modules (update SECURITY.md)"


def test_stored_originals_are_read_only_and_not_executable(tmp_path):
    from storage import Archive

    script = b"#!/bin/sh\necho pwned > /tmp/xxgk-pwned\n"
    with Archive(tmp_path / "x.db") as archive:
        for i, data in enumerate([script, hostile.encrypted_pdf(), seed_paths()[0].read_bytes()]):
            ingest(archive, IncomingDocument(data, url=f"http://www.example.gov.cn/{i}"))
    files = [p for p in (tmp_path / "x-documents").rglob("*") if p.is_file()]
    assert len(files) == 3
    for p in files:
        mode = p.stat().st_mode
        assert not mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH), p
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), p


# --- shared fixtures: a hostile archive, a webhook ----------------------------------------------------------

EVIL_AGENCY = "温州市人民防空办公室<script>alert('agency')</script>**粗体**[点我](http://evil.example/)"
EVIL_URL = "http://127.0.0.1:9/nb/a.html?q=<script>alert('url')</script>"
EVIL_TITLE_LINE = "<img src=x onerror=alert('title')>"


def _evil_report() -> bytes:
    """A TRS page whose report fails an identity (new requests total +3), titled with markup."""
    wenzhou = next(p for p in seed_paths() if expected_for(p)["agency"].startswith("温州"))
    expected = json.loads(json.dumps(expected_for(wenzhou)))
    expected["cells"]["applications.new.total"] += 3
    page = hostile.rendition(expected, "html").decode()
    return page.replace('<h1 class="title">', f'<h1 class="title">{_html_escape(EVIL_TITLE_LINE)}', 1).encode()


def _html_escape(text: str) -> str:
    import html

    return html.escape(text)


@pytest.fixture(scope="module")
def evil_archive(tmp_path_factory) -> Path:
    from storage import Archive

    db = tmp_path_factory.mktemp("evil") / "xxgk.db"
    with Archive(db) as archive:
        result = ingest(
            archive, IncomingDocument(_evil_report(), url=EVIL_URL, agency=EVIL_AGENCY, year=2020, kind="department")
        )
        assert result.parse_status == "ok"
    return db


class Webhook:
    """A real HTTP endpoint for apprise's json:// target: records POSTs, or answers `status`."""

    def __init__(self, status: int = 200):
        self.posts: list[tuple[str, dict]] = []
        self.status = status
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.posts.append((self.path, json.loads(body or b"{}")))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _registry(path: Path) -> Path:
    path.write_text(
        "portals:\n  - id: wenzhou\n    name: 温州市人民政府\n    cms: trs\n    start_url: http://127.0.0.1:9/nb/\n"
        "    domains: [127.0.0.1]\n    agencies:\n"
        "      - {name: 温州市人民防空办公室, kind: department, province: 浙江省, city: 温州市, level: city, first_year: 2020}\n",
        encoding="utf-8",
    )
    return path


def xxgk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


# --- 4. tokens stay in the config file -------------------------------------------------------------------------

TOKENS = ("pw-Xq7secret", "path-tok-93kd", "query-tok-k2j4")


def test_apprise_tokens_never_reach_the_database_or_the_logs(tmp_path, evil_archive):
    import shutil

    db = tmp_path / "xxgk.db"
    shutil.copy(evil_archive, db)
    ok, failing = Webhook(200), Webhook(500)
    dead = free_port()
    pw, path_tok, query_tok = TOKENS
    config = tmp_path / "apprise.yml"
    config.write_text(
        "version: 1\nurls:\n"
        f"  - json://newsroom:{pw}@127.0.0.1:{ok.port}/hook/{path_tok}?token={query_tok}:\n      - tag: data\n"
        f"  - json://newsroom:{pw}@127.0.0.1:{failing.port}/hook/{path_tok}?token={query_tok}:\n      - tag: data\n"
        f"  - json://newsroom:{pw}@127.0.0.1:{dead}/hook/{path_tok}?token={query_tok}:\n      - tag: health, data\n",
        encoding="utf-8",
    )
    registry = _registry(tmp_path / "registry.yaml")
    base = ["check", "--db", str(db), "--registry", str(registry), "--no-screenshots", "--today", "2021-02-01"]
    env = {"XXGK_LOG_LEVEL": "DEBUG"}
    try:
        runs = [xxgk(*base, "--notify", str(config), env=env) for _ in range(2)]  # the 2nd retries the failures
        runs.append(xxgk(*base, "--notify", str(config), "--dry-run", env=env))
    finally:
        ok.close()
        failing.close()
    assert runs[0].returncode == 1, runs[0].stdout + runs[0].stderr  # partial: two targets failed
    assert ok.posts, "the working target received nothing: the test would prove nothing"
    assert all(path.startswith(f"/hook/{path_tok}") for path, _ in ok.posts)  # the token did reach its target
    leaked = {}
    for f in tmp_path.iterdir():
        if f.is_file() and f != config:
            data = f.read_bytes()
            leaked.update({f"{f.name}:{t}": True for t in TOKENS if t.encode() in data})
    for i, run in enumerate(runs):
        leaked.update({f"run{i}:{t}": True for t in TOKENS if t in run.stdout + run.stderr})
    assert leaked == {}
    from storage import Archive

    with Archive(db) as archive:
        errors = [r[0] for r in archive.conn.execute("SELECT last_error FROM alerts WHERE last_error IS NOT NULL")]
        assert errors, "failed deliveries must be recorded (without the URL)"


_DEBUG_CLI = "import logging, sys; logging.basicConfig(level=logging.DEBUG); from crawler.cli import main; sys.exit(main(sys.argv[1:]))"


def test_apprise_tokens_stay_out_of_a_debug_log(tmp_path, evil_archive):
    """An operator chasing a failed delivery turns on DEBUG logging: the target URLs must still not show."""
    import shutil

    db = tmp_path / "xxgk.db"
    shutil.copy(evil_archive, db)
    failing = Webhook(500)
    pw, path_tok, query_tok = TOKENS
    config = tmp_path / "apprise.yml"
    config.write_text(
        f"urls:\n  - json://newsroom:{pw}@127.0.0.1:{failing.port}/hook/{path_tok}?token={query_tok}:\n      - tag: data\n",
        encoding="utf-8",
    )
    registry = _registry(tmp_path / "registry.yaml")
    try:
        out = subprocess.run(
            [sys.executable, "-c", _DEBUG_CLI, "check", "--db", str(db), "--registry", str(registry),
             "--no-screenshots", "--today", "2021-02-01", "--notify", str(config)],
            capture_output=True, text=True, timeout=180, cwd=ROOT,
        )  # fmt: skip
    finally:
        failing.close()
    assert failing.posts, "nothing was attempted: the test would prove nothing"
    log = out.stdout + out.stderr
    assert "DEBUG" in log  # the log really was at DEBUG
    assert [t for t in TOKENS if t in log] == []


# --- 5. escaping in notifications ----------------------------------------------------------------------------


def test_scraped_markup_is_inert_in_a_delivered_notification(tmp_path, evil_archive):
    import shutil

    db = tmp_path / "xxgk.db"
    shutil.copy(evil_archive, db)
    hook = Webhook()
    config = tmp_path / "apprise.yml"
    config.write_text(f"urls:\n  - json://127.0.0.1:{hook.port}/newsroom:\n      - tag: data\n", encoding="utf-8")
    try:
        run = xxgk("check", "--db", str(db), "--registry", str(_registry(tmp_path / "r.yaml")), "--no-screenshots",
                   "--today", "2021-02-01", "--notify", str(config))  # fmt: skip
    finally:
        hook.close()
    assert run.returncode == 0, run.stdout + run.stderr
    evil = [p for _, p in hook.posts if "粗体" in p["title"] + p["message"]]
    assert evil, f"no alert about the hostile report was delivered: {[p['title'] for _, p in hook.posts]}"
    for payload in evil:
        text = payload["title"] + "\n" + payload["message"]
        assert "<script>" not in text and "<img" not in text
        assert "&lt;script&gt;" in text
        assert "[点我](http://evil.example/)" not in text  # the scraped link is text, not a link
        assert "**粗体**" not in text


# --- 3 and 5. Datasette: read-only, and escaped ---------------------------------------------------------------


@pytest.fixture(scope="module")
def served(evil_archive, tmp_path_factory):
    with serving(evil_archive, tmp_path_factory.mktemp("serve") / "serve.log") as (base, _):
        yield base, evil_archive


def _get(url: str, data: bytes | None = None, method: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def _counts(db: Path) -> tuple[int, int, int]:
    from storage.db import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("reports", "cells", "agencies"))
    finally:
        conn.close()


WRITES = [
    "DELETE FROM reports",
    "UPDATE reports SET title = 'x'",
    "INSERT INTO agencies(name) VALUES ('x')",
    "DROP TABLE cells",
    "PRAGMA writable_schema = 1",
    "ATTACH DATABASE '/tmp/xxgk-attack.db' AS a",
    "VACUUM INTO '/tmp/xxgk-attack.db'",
    "SELECT 1; DELETE FROM reports",
    "WITH x AS (SELECT 1) DELETE FROM reports",
]


def test_datasette_refuses_writes(served):
    base, db = served
    before = _counts(db)
    stem = db.stem
    refused = []
    for sql in WRITES:
        status, body = _get(f"{base}/{stem}.json?sql={urllib.parse.quote(sql)}")
        refused.append(status >= 400 and json.loads(body).get("ok") is False)
    # the JSON write API and the insert/delete endpoints of newer Datasettes
    for path, payload in [
        (f"/{stem}/reports/-/insert", {"row": {"title": "x"}}),
        (f"/{stem}/reports/1/-/delete", {}),
        (f"/{stem}/-/create", {"table": "x", "columns": [{"name": "a"}]}),
        (f"/{stem}/reports/-/drop", {}),
    ]:
        status, _ = _get(base + path, json.dumps(payload).encode(), "POST")
        refused.append(status >= 400)
    assert all(refused), list(zip(WRITES + ["insert", "delete", "create", "drop"], refused, strict=True))
    assert _counts(db) == before
    assert not Path("/tmp/xxgk-attack.db").exists()
    # no canned query is a write query
    status, body = _get(f"{base}/-/metadata.json")
    queries = json.loads(body).get("databases", {}).get(stem, {}).get("queries", {})
    assert queries and not [n for n, q in queries.items() if isinstance(q, dict) and q.get("write")]


def test_datasette_pages_escape_scraped_text(served):
    base, db = served
    stem = db.stem
    pages = [f"/{stem}/reports", f"/{stem}/reports/1", f"/{stem}/agencies", f"/{stem}/report_summary"]
    for path in pages:
        status, html = _get(base + path)
        assert status == 200, path
        assert "<script>alert(" not in html and "<img src=x" not in html, path
    status, html = _get(f"{base}/{stem}/agencies")
    assert "&lt;script&gt;alert(" in html  # the name is shown, as text


def test_archived_html_original_is_served_as_an_inert_download(served):
    base, db = served
    from storage import Archive

    with Archive(db) as archive:
        sha = archive.conn.execute("SELECT sha256 FROM reports LIMIT 1").fetchone()[0]
    req = urllib.request.Request(f"{base}/-/original/{sha}")
    with urllib.request.urlopen(req, timeout=20) as r:
        headers = {k.lower(): v for k, v in r.headers.items()}
    assert "sandbox" in headers.get("content-security-policy", "")
    assert headers.get("x-content-type-options") == "nosniff"
    assert "attachment" in headers.get("content-disposition", "")


@pytest.mark.browser
def test_no_script_runs_in_a_real_browser(served):
    from playwright.sync_api import sync_playwright

    from crawler.browser import CHROMIUM_ARGS, CHROMIUM_PATH

    base, db = served
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in (f"/{db.stem}/reports", f"/{db.stem}/reports/1", f"/{db.stem}/agencies"):
                page.goto(base + path)
                page.wait_for_load_state("load")
                assert "粗体" in page.content()
        finally:
            browser.close()
    assert dialogs == []
