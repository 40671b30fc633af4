"""Scrapy's side of the one confinement, over real crawls on loopback (SECURITY.md §1).

- DNS rebinding: a name is judged again where the connection is made, so a name that passed the request check
  cannot connect to a private address, and a name that does not resolve fails closed;
- ports: an agency host's other ports are not the portal's; the ports the registry declares are;
- a link that is not a URL at all costs that link (refused, `bad_url`), never the listing it is on;
- `xxgk crawl --url` with something that is not a URL stops at once with one line.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys

import pytest
import webtrap
from dns_table import TABLE_ENV, TableResolver
from support.shared import ROOT
from webtrap import SECRET, Server, html, portal_of, seed_report, write_registry

from crawler.confinement import Confinement
from crawler.crawl.resolver import ConfinedResolver, RefusedAnswer
from storage import Archive

HERE = ROOT / "tests" / "hardening"


def _listing(*links: tuple[str, str]) -> str:
    items = "".join(f"<li><a href='{href}'>{text}</a><span>2021-01-20</span></li>" for href, text in links)
    return f"<html><head><meta charset='utf-8'><title>年报</title></head><body><ul>{items}</ul></body></html>"


def _registry(tmp_path, portal_id: str, agency: str, start_url: str, domain: str):
    entry = {"id": portal_id, "agency": agency, "start_url": start_url, "domains": [domain]}
    return write_registry(tmp_path / "registry.yaml", [entry])


def _title(agency: str, year: int) -> str:
    return f"{agency}{year}年政府信息公开工作年度报告"


def _archived_urls(db) -> set[str]:
    with Archive(db) as archive:
        return {r.source_url for r in archive.reports.list()}


# --- DNS rebinding ---------------------------------------------------------------------------------------------


def _ips(*addresses: str) -> list:
    return [ipaddress.ip_address(a) for a in addresses]


def test_a_name_that_passed_the_check_cannot_connect_to_a_private_answer():
    """The rebinding itself, at the two places a name is resolved: the request check sees a public answer, the
    connection a moment later a private one, and refuses it."""
    check_time = Confinement(("wenzhou.gov.cn",), resolver=lambda host: _ips("202.107.1.12"))
    assert check_time.refusal("http://rebind.wenzhou.gov.cn/nb/") is None
    connect_time = ConfinedResolver(None, 0, 5.0)
    with pytest.raises(RefusedAnswer, match="private address"):
        connect_time.choose("rebind.wenzhou.gov.cn", _ips("127.0.0.1"))
    with pytest.raises(RefusedAnswer):  # one private answer among public ones is enough
        connect_time.choose("rebind.wenzhou.gov.cn", _ips("202.107.1.12", "10.0.0.7"))
    with pytest.raises(RefusedAnswer):
        connect_time.choose("rebind.wenzhou.gov.cn", _ips("::ffff:169.254.169.254"))
    assert connect_time.choose("www.wenzhou.gov.cn", _ips("2400:3200::1", "202.107.1.10")) == "202.107.1.10"
    allowed = ConfinedResolver(None, 0, 5.0, (ipaddress.ip_network("127.0.0.1/32"),))
    assert allowed.choose("replica.test", _ips("127.0.0.1")) == "127.0.0.1"
    with pytest.raises(RefusedAnswer):
        allowed.choose("replica.test", _ips("127.0.0.2"))


def test_a_real_crawl_connects_only_to_checked_answers(tmp_path):
    """A portal on agency names (table DNS): `www` answers the allowed 127.0.0.1 and its report is archived
    (so the crawl really connected through the resolver: nothing else resolves these names); `rebind`
    answers 127.0.0.2, where a trap serves a convincing report on the same port; `gone` does not resolve.
    The trap sees no connection, and both failures are on record."""
    report = seed_report()
    site = Server("127.0.0.1")
    trap = webtrap.trap(site.port)  # same port, other address: only the answer differs
    try:
        base = f"http://www.xxgk.test:{site.port}"
        site.routes = {
            "/nb/index.html": html(
                _listing(
                    (f"{base}/nb/report.html", report.title),
                    (f"http://rebind.xxgk.test:{site.port}/nb/2015.html", _title(report.agency, 2015)),
                    (f"http://gone.xxgk.test:{site.port}/nb/2016.html", _title(report.agency, 2016)),
                )
            ),
            "/nb/report.html": lambda _h: (200, {"Content-Type": "text/html; charset=utf-8"}, report.page),
        }
        registry = _registry(tmp_path, "dns", report.agency, f"{base}/nb/index.html", "xxgk.test")
        table = {"www.xxgk.test": ["127.0.0.1"], "rebind.xxgk.test": ["127.0.0.2"]}
        done, summary = webtrap.crawl(
            tmp_path,
            registry,
            "dns",
            settings={"TWISTED_DNS_RESOLVER": "dns_table.TableResolver"},
            env={TABLE_ENV: json.dumps(table), "PYTHONPATH": str(HERE)},
        )
    finally:
        site.close()
        trap.close()
    assert trap.connections == 0 and trap.hits == []
    portal = portal_of(summary, "dns")
    assert portal["reports_new"] == 1, portal
    assert _archived_urls(tmp_path / "xxgk.db") == {f"{base}/nb/report.html"}
    failed = {f["url"].split("/")[2].split(":")[0]: f for f in portal["failures"]}
    assert set(failed) == {"rebind.xxgk.test", "gone.xxgk.test"}, portal["failures"]
    assert {f["reason"] for f in failed.values()} == {"connection"}, failed  # failed closed, recorded
    # Twisted reports both as "no results"; the log says which was refused and why.
    assert "refused to connect to rebind.xxgk.test: it resolves to 127.0.0.2" in done.stderr
    assert issubclass(TableResolver, ConfinedResolver)  # the table replaces the lookup, not the judging


# --- ports ------------------------------------------------------------------------------------------------------


def test_another_port_on_the_agency_host_is_refused_and_the_declared_port_works(tmp_path):
    """The portal serves on a random loopback port (declared by its start URL, like every replica): its report
    is archived. A convincing report on another port of the same host is never requested."""
    report = seed_report()
    site, other = Server("127.0.0.1"), Server("127.0.0.1")
    other.default = html(f"<html><body><h1>{report.title}</h1><p>{SECRET}</p></body></html>")
    try:
        site.routes = {
            "/nb/index.html": html(
                _listing(
                    ("/nb/report.html", report.title),
                    (other.url("/admin/2015.html"), _title(report.agency, 2015)),
                )
            ),
            "/nb/report.html": lambda _h: (200, {"Content-Type": "text/html; charset=utf-8"}, report.page),
        }
        registry = _registry(tmp_path, "ports", report.agency, site.url("/nb/index.html"), "127.0.0.1")
        _, summary = webtrap.crawl(tmp_path, registry, "ports")
    finally:
        site.close()
        other.close()
    assert other.connections == 0
    portal = portal_of(summary, "ports")
    assert portal["status"] == "ok" and portal["reports_new"] == 1, portal
    assert portal["refused"] == {"port": 1}, portal


# --- one bad link ---------------------------------------------------------------------------------------------------


def test_one_malformed_link_costs_that_link_not_the_listing(tmp_path):
    """`http://[bad/` (and a port out of range) used to raise in link extraction and drop the whole listing:
    the portal looked empty and its report was later reported missing."""
    report = seed_report()
    site = Server("127.0.0.1")
    try:
        site.routes = {
            "/nb/index.html": html(
                _listing(
                    ("http://[bad/", _title(report.agency, 2015)),
                    (f"http://127.0.0.1:{site.port}99999/x.html", "导航"),
                    ("/nb/report.html", report.title),
                )
            ),
            "/nb/report.html": lambda _h: (200, {"Content-Type": "text/html; charset=utf-8"}, report.page),
        }
        registry = _registry(tmp_path, "bad", report.agency, site.url("/nb/index.html"), "127.0.0.1")
        done, summary = webtrap.crawl(tmp_path, registry, "bad")
    finally:
        site.close()
    portal = portal_of(summary, "bad")
    assert portal["status"] == "ok" and portal["reports_new"] == 1, portal
    assert portal["refused"] == {"bad_url": 2}, portal
    assert "Traceback" not in done.stderr and "ValueError" not in done.stderr


# --- --url that is not one ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["not a url", "http://[::1", "ftp://www.example.gov.cn/", "http://:8080/"])
def test_crawl_url_that_is_not_a_url_exits_2_with_one_line(tmp_path, url: str):
    args = ["crawl", "--url", url, "--agency", "某县人民政府", "--db", str(tmp_path / "x.db")]
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "ok" not in done.stdout.lower()


@pytest.mark.parametrize("url", ["not a url", "http://[::1", "gopher://x/", "http://host:99999/"])
def test_the_crawl_api_refuses_a_url_that_is_not_one_before_starting(tmp_path, url: str):
    """The same check below the command line (xxgk run, scripts): a fatal summary, nothing started."""
    from crawler.crawl import crawl

    summary = crawl(url=url, agency="某县人民政府", db=tmp_path / "x.db")
    assert summary.exit_code == 2 and summary.message and "--url" in summary.message
    assert summary.run_id is None and not (tmp_path / "x.db").exists()
