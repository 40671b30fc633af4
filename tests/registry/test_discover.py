"""`xxgk discover`: against a tiny real portal on 127.0.0.1 (http.server in a thread, started here): home page →
信息公开 → 年报 column with report links and a 部门年报 sub-list. The YAML printed is a valid registry naming the
column, the agencies of its reports and the URLs as evidence; confinement holds (private addresses refused
without --allow-network, off-site links never fetched)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import run_xxgk

from crawler.discovery.discover import discover, discovery_yaml, kind_from_name
from crawler.discovery.pagefetch import FetchError
from crawler.registry import load_registry


def page(title: str, body: str) -> bytes:
    return f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>".encode()


SITE = {
    "/": page(
        "温州市人民政府",
        "<div class=nav><a href='/xxgk/index.html'>政府信息公开</a><a href='/news/'>新闻</a></div>"
        "<a href='http://offsite.example/xxgk/'>信息公开</a>",
    ),
    "/xxgk/index.html": page(
        "信息公开",
        "<ul><li><a href='/xxgk/zfxxgkzn/'>政府信息公开指南</a></li>"
        "<li><a href='/xxgk/zfxxgknb/index.html'>政府信息公开年报</a></li></ul>",
    ),
    "/xxgk/zfxxgknb/index.html": page(
        "政府信息公开年报",
        "<ul>"
        "<li><a href='/xxgk/zfxxgknb/2024/art_1.html'>温州市人民政府2024年政府信息公开工作年度报告</a> 2025-03-20</li>"
        "<li><a href='/xxgk/zfxxgknb/2023/art_2.html'>温州市人民政府2023年政府信息公开工作年度报告</a> 2024-03-08</li>"
        "<li><a href='/xxgk/zfxxgknb/bmnb/index.html'>部门年报</a></li>"
        "</ul>",
    ),
    "/xxgk/zfxxgknb/bmnb/index.html": page(
        "部门年报",
        "<ul><li><a href='/xxgk/zfxxgknb/bmnb/art_3.html'>温州市人民防空办公室2024年政府信息公开工作年度报告</a></li>"
        "<li><a href='/xxgk/zfxxgknb/bmnb/art_4.html'>温州市人民政府办公室2024年政府信息公开工作年度报告</a></li></ul>",
    ),
}


class Handler(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        Handler.hits.append(self.path)
        body = SITE.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def portal():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Handler.hits = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_discover_walks_home_to_column_and_its_sub_list(portal):
    found = discover(portal + "/", allow_networks=["127.0.0.1/32"])
    assert [c.url for c in found.columns] == [portal + "/xxgk/zfxxgknb/index.html"]
    column = found.columns[0]
    assert column.via == portal + "/xxgk/index.html" and column.link_text == "政府信息公开年报"
    assert column.lists == [portal + "/xxgk/zfxxgknb/bmnb/index.html"]
    assert {r.agency for r in column.reports} == {"温州市人民政府", "温州市人民防空办公室", "温州市人民政府办公室"}
    assert "/news/" not in Handler.hits and "/xxgk/zfxxgkzn/" not in Handler.hits  # not toward the column
    assert not any("offsite" in p for p in found.pages)


def test_the_yaml_is_a_registry_with_evidence(portal, tmp_path):
    done = run_xxgk("discover", portal + "/", "--allow-network", "127.0.0.1/32")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "found.yaml"
    path.write_text(done.stdout, encoding="utf-8")
    registry = load_registry(path)
    (p,) = registry.portals
    assert p.start_url == portal + "/xxgk/zfxxgknb/index.html" and p.cms == "generic" and p.verified is False
    assert p.home_url == portal + "/" and p.declares_column  # found again from there when it moves
    assert p.domains == ("127.0.0.1",) and p.name == "温州市人民政府"
    assert p.evidence[0].kind == "discovered" and p.evidence[0].source == p.start_url
    assert "政府信息公开年报" in (p.evidence[0].note or "")
    by_name = {a.name: a for a in p.agencies}
    gov = by_name["温州市人民政府"]
    assert (gov.kind, gov.province, gov.city, gov.level) == ("government", "浙江省", "温州市", "city")  # national list
    assert [e.source for e in gov.evidence] == [
        portal + "/xxgk/zfxxgknb/2024/art_1.html",
        portal + "/xxgk/zfxxgknb/2023/art_2.html",
    ]
    assert by_name["温州市人民防空办公室"].kind == "department"
    assert by_name["温州市人民政府办公室"].kind == "department"  # a government's office is a department


def test_loopback_is_refused_without_allow_network(portal):
    with pytest.raises(FetchError) as e:
        discover(portal + "/")
    assert e.value.reason == "refused" and e.value.detail == "private_address"
    done = run_xxgk("discover", portal + "/")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith("--allow-network CIDR allows it)")
    assert Handler.hits == []  # nothing was requested


def test_a_page_without_a_column_exits_1(portal):
    done = run_xxgk("discover", portal + "/news/", "--allow-network", "127.0.0.1/32")
    assert done.returncode == 2 and "http_error (404)" in done.stderr  # the start page itself is missing
    SITE["/empty.html"] = page("空", "<a href='/nowhere.html'>新闻</a>")
    try:
        done = run_xxgk("discover", portal + "/empty.html", "--allow-network", "127.0.0.1/32")
    finally:
        del SITE["/empty.html"]
    assert done.returncode == 1 and "no annual-report column found" in done.stderr and done.stdout == ""


def test_bad_input_is_one_line():
    for args in (["not a url"], ["http://[::1"], ["http://a.gov.cn/", "--allow-network", "notacidr"]):
        done = run_xxgk("discover", *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2


def test_kind_from_name():
    assert kind_from_name("温州市人民政府") == "government"
    assert kind_from_name("兴安盟行政公署") == "government"
    assert kind_from_name("温州市人民政府办公室") == "department"


def test_yaml_header_lists_failures(portal):
    found = discover(portal + "/", allow_networks=["127.0.0.1/32"])
    found.failures.append((portal + "/gone.html", "http_error: 404"))
    text = discovery_yaml(found)
    assert f"# not read: {portal}/gone.html (http_error: 404)" in text
