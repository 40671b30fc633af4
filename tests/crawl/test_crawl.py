"""End to end: the crawler against the replica portals (crawler/replica), real HTTP on 127.0.0.1.

One crawl of every replica portal (one per CMS family: TRS, Hanweb JCMS, Fujian, JSON API, a generic portal with
navigation chrome reached from its home page, and a list drawn by JavaScript in real Chromium) runs in its own
process (a fresh Twisted reactor) into a real archive; each family's test then holds the archive against what
the replica published: every report found, archived once, parsed to exactly the published figures, with its
publication date and where that date came from. Further crawls test incrementality, an edit after publication,
the generic `--url` path, a portal that does not answer, SIGKILL mid-crawl, and the lock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from support.serving import free_port
from support.shared import ROOT

from crawler.replica import ReplicaServer
from storage import Archive, crawl_lock

FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_TIMEOUT": "30",
    "XXGK_RETRY_BACKOFF_BASE": "0.2",
}


def xxgk(*args: str, timeout: float = 400, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def crawl_args(db: Path, registry: Path, *extra: str) -> list[str]:
    args = ["crawl", "--db", str(db), "--registry", str(registry), "--allow-network", "127.0.0.1/32", "-q", "--json"]
    for k, v in FAST.items():
        args += ["-s", f"{k}={v}"]
    return [*args, *extra]


def summary_of(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return json.loads(done.stdout)


def portal_summary(summary: dict, portal_id: str) -> dict:
    return next(p for p in summary["portals"] if p["portal_id"] == portal_id)


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    with ReplicaServer() as server:
        server.registry = server.registry_path(tmp_path_factory.mktemp("replica"))
        yield server


@pytest.fixture(scope="module")
def first(replica, tmp_path_factory) -> dict:
    """One crawl of every replica portal into a fresh archive."""
    db = tmp_path_factory.mktemp("first") / "xxgk.db"
    done = xxgk(*crawl_args(db, replica.registry))
    return {"db": db, "summary": summary_of(done), "stderr": done.stderr}


def archived(db: Path, portal_id: str) -> list:
    with Archive(db) as archive:
        return [(r, archive.reports.cells(r.id)) for r in archive.reports.list(portal_id=portal_id)]


def assert_every_report(replica: ReplicaServer, db: Path, portal_id: str, base: str) -> None:
    """The archive holds exactly the reports the portal published, each once, parsed to the published figures."""
    expected = {(e.agency, e.year): e for e in replica.expected(portal_id)}
    published = {(p.agency.name, p.year): p for p in replica.published if p.portal == portal_id}
    rows = archived(db, portal_id)
    got = {(r.agency, r.year): (r, cells) for r, cells in rows}
    assert len(rows) == len(got), "a report archived twice"
    assert set(got) == set(expected), f"missing {set(expected) - set(got)}, unexpected {set(got) - set(expected)}"
    for key, e in expected.items():
        r, cells = got[key]
        assert r.source_url == base + e.url, key
        assert r.parse_status == "ok", (key, r.parse_reason)
        assert (r.published_at, r.published_source) == (e.published_at, e.published_source), key
        figures = published[key].report(replica.epoch).figures.cells
        assert {k: c.value for k, c in cells.items()} == figures, key


FAMILIES = {
    "trs": "demo-shenyang",
    "hanweb": "demo-wenzhou",
    "fujian": "demo-rongxi",
    "jsonapi": "demo-zibo",
    "generic": "demo-dadukou",
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_report_of_each_cms_family_is_found_archived_and_parsed(replica, first, family: str):
    portal_id = FAMILIES[family]
    p = portal_summary(first["summary"], portal_id)
    assert p["status"] == "ok", p
    assert_every_report(replica, first["db"], portal_id, replica.base_url)
    assert p["reports_new"] == len(replica.expected(portal_id))


@pytest.mark.browser
def test_a_javascript_only_listing_is_rendered_in_chromium(replica, first):
    # The list's HTML has no entry at all: they come from list.json through fetch() and DOM calls.
    listing = (replica.site().routes["/jiaxing/zfxxgk/zfxxgknb/index.html"]).body.decode()
    assert "年度报告</a>" not in listing and "/jiaxing/art/" in listing
    p = portal_summary(first["summary"], "demo-jiaxing")
    assert p["status"] == "ok", p
    assert_every_report(replica, first["db"], "demo-jiaxing", replica.base_url)
    # The documents themselves were fetched by plain HTTP (Scrapy's user agent), the list by the browser.
    assert replica.hits["/jiaxing/zfxxgk/zfxxgknb/list.json"] >= 1


FINISHED_CRAWLERS = """
import gc, json, sys
from scrapy.crawler import Crawler
from crawler.crawl import crawl
summary = crawl(None, db=sys.argv[1], registry=sys.argv[2], allow_networks=["127.0.0.1/32"],
                settings=json.loads(sys.argv[3]), progress=False)
gc.collect()
print(json.dumps({"portals": len(summary.portals), "crawlers": sum(isinstance(o, Crawler) for o in gc.get_objects())}))
"""


def test_a_finished_portals_crawler_is_not_kept_in_memory(replica, tmp_path):
    # A national run builds thousands of crawlers one after the other; each must be freed once its portal is done.
    args = [str(tmp_path / "x.db"), str(replica.registry), json.dumps({**FAST, "XXGK_PARALLEL_PORTALS": "2"})]
    done = subprocess.run([sys.executable, "-c", FINISHED_CRAWLERS, *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.splitlines()[-1])
    assert counts["portals"] >= 5 and counts["crawlers"] == 0, counts


@pytest.mark.browser
def test_a_javascript_portal_starts_one_chromium_not_one_per_url_scheme(replica, tmp_path):
    # Scrapy builds a download handler per scheme; both share one here (crawler/crawl/listing_browser.py).
    done = xxgk(*crawl_args(tmp_path / "js.db", replica.registry, "demo-jiaxing", "-s", "LOG_LEVEL=INFO"))
    assert portal_summary(summary_of(done), "demo-jiaxing")["status"] == "ok"
    assert done.stderr.count("Launching browser chromium") == 1, done.stderr[-2000:]
    assert done.stderr.count("Closing browser") == 1


@pytest.mark.browser
def test_javascript_portals_take_turns_with_one_chromium_at_a_time(replica, tmp_path):
    # A second JavaScript portal (the same replica site under another id and agency names): with 8 portals at
    # once, the second one's Chromium starts only after the first one's has closed (XXGK_PARALLEL_BROWSERS 1).
    registry = yaml.safe_load(replica.registry.read_text())
    jiaxing = next(p for p in registry["portals"] if p["id"] == "demo-jiaxing")
    twin = {
        **jiaxing,
        "id": "demo-jiaxing-twin",
        "agencies": [{**a, "name": a["name"] + "二"} for a in jiaxing["agencies"]],
    }
    registry["portals"].append(twin)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True))
    done = xxgk(*crawl_args(tmp_path / "js.db", path, "demo-jiaxing", "demo-jiaxing-twin", "-s", "LOG_LEVEL=INFO"))
    summary = summary_of(done)
    assert [portal_summary(summary, p)["status"] for p in ("demo-jiaxing", "demo-jiaxing-twin")] == ["ok", "ok"]
    events = [line for line in done.stderr.splitlines() if "Launching browser" in line or "Closing browser" in line]
    assert [("Launching" in e) for e in events] == [True, False, True, False], events


def test_a_missing_report_stays_missing_and_pagination_past_page_one_was_followed(replica, first):
    with Archive(first["db"]) as archive:
        assert archive.reports.for_agency_year("嘉兴市人民政府", 2023) is None  # never published
        assert archive.reports.for_agency_year("嘉兴市人民政府", 2022) is not None
    # Reports only reachable past the first page: index_1.html (TRS), dataproxy (Hanweb), the search API (Fujian).
    assert replica.hits["/shenyang/zwgk/zfxxgk/zfxxgknb/index_1.html"] >= 1
    assert replica.hits["/wenzhou/module/web/jpage/dataproxy.jsp"] >= 1
    assert replica.hits["/rongxi/fjdzapp/search"] >= 2


def test_hijacked_domain_private_address_and_robots_links_are_refused(replica, first):
    failures = portal_summary(first["summary"], "demo-dadukou")["failures"]
    by_url = {f["url"]: (f["reason"], f["detail"]) for f in failures}
    assert by_url["http://www.ddk.gov.cn.gov-mirror.example/zwgk/2018nb.html"] == ("refused", "offsite")
    assert by_url["http://10.0.0.8/zwgk/zfxxgknb/2017nb.html"] == ("refused", "private_address")
    loopback = replica.base_url.replace("127.0.0.1", "127.0.0.2") + "/dadukou/2016nb.html"
    assert by_url[loopback] == ("refused", "private_address")  # loopback, but not the network the test allows
    assert by_url[f"{replica.base_url}/dadukou/private/2015nb.html"][0] == "robots"
    assert replica.hits["/dadukou/private/2015nb.html"] == 0
    with Archive(first["db"]) as archive:
        assert not [r for r in archive.reports.list() if r.year in (2015, 2016, 2017, 2018)]
    # The footer's 申请表.doc is not an attachment of any report.
    assert replica.hits["/dadukou/zwgk/zfxxgk/sqb.doc"] == 0


@pytest.fixture(scope="module")
def copy(first, tmp_path_factory) -> Path:
    """The first crawl's archive, copied (database and document store) for crawls that change it."""
    target = tmp_path_factory.mktemp("second") / "xxgk.db"
    shutil.copy(first["db"], target)
    shutil.copytree(first["db"].with_name("xxgk-documents"), target.with_name("xxgk-documents"))
    return target


def test_a_second_crawl_downloads_no_document(replica, copy):
    summary = summary_of(xxgk(*crawl_args(copy, replica.registry)))
    for p in summary["portals"]:
        assert p["documents_downloaded"] == 0, p
        assert p["reports_new"] == p["reports_changed"] == 0, p
        assert p["known_skipped"] > 0, p


def test_a_report_edited_after_publication_becomes_a_new_version(replica, copy):
    replica.set_epoch(2)
    try:
        summary = summary_of(xxgk(*crawl_args(copy, replica.registry, "demo-dadukou", "--recheck")))
        p = portal_summary(summary, "demo-dadukou")
        # --recheck: a conditional GET for every archived document; the server answers 304 for all but the edit.
        assert p["reports_changed"] == 1 and p["documents_downloaded"] == 1, p
        assert p["not_modified"] == len(replica.expected("demo-dadukou")) - 1, p
        with Archive(copy) as archive:
            report = archive.reports.for_agency_year("重庆市大渡口区人民政府", 2023)
            assert report.version == 2
            versions = archive.conn.execute(
                "SELECT count(*) FROM report_versions WHERE report_id = ?", (report.id,)
            ).fetchone()[0]
            assert versions == 2
            # The correction made the table add up: 予以公开 is back to the published figure.
            assert archive.reports.cells(report.id)["applications.granted.total"].value == next(
                p.report(2).figures.cells["applications.granted.total"]
                for p in replica.published
                if (p.portal, p.year, p.agency.kind) == ("demo-dadukou", 2023, "government")
            )
        assert_every_report(replica, copy, "demo-dadukou", replica.base_url)
    finally:
        replica.set_epoch(1)


def test_the_generic_path_crawls_a_portal_from_its_home_page(replica, tmp_path):
    """`xxgk crawl --url`: a portal outside the registry, from its home page through 政务公开 → 政府信息公开 →
    政府信息公开年报, its pagination (下一页), inline reports and DOC/DOCX/zip attachments."""
    db = tmp_path / "url.db"
    start = f"{replica.base_url}/dadukou/index.html"
    done = xxgk(
        *crawl_args(db, replica.registry), "--url", start, "--agency", "重庆市大渡口区人民政府", "--kind", "government"
    )
    (p,) = summary_of(done)["portals"]
    assert p["portal_id"] == f"url:{replica.base_url.split('//')[1]}" and p["status"] == "ok", p
    with Archive(db) as archive:
        rows = archive.reports.list(portal_id=p["portal_id"])
    # Outside the registry the department keeps the name its titles give it.
    short = {"重庆市大渡口区人民防空办公室": "大渡口区人民防空办公室"}
    want = {(short.get(e.agency, e.agency), e.year, replica.base_url + e.url) for e in replica.expected("demo-dadukou")}
    assert {(r.agency, r.year, r.source_url) for r in rows} == want
    assert all(r.parse_status == "ok" for r in rows)


def test_a_portal_that_does_not_answer_does_not_stop_the_others(replica, tmp_path):
    registry = tmp_path / "registry.yaml"
    dead = f"http://127.0.0.1:{free_port()}/zwgk/zfxxgknb/index.html"
    registry.write_text(
        replica.registry_text()
        + f"""
  - id: demo-down
    name: 不应答的门户
    cms: trs
    start_url: {dead}
    domains: [127.0.0.1]
    verified: true
    agencies:
      - {{name: 某县人民政府, kind: government}}
""",
        encoding="utf-8",
    )
    done = xxgk(*crawl_args(tmp_path / "x.db", registry, "demo-down", "demo-zibo", "-s", "RETRY_TIMES=1"))
    assert done.returncode == 1  # partial failure
    summary = summary_of(done)
    down, zibo = portal_summary(summary, "demo-down"), portal_summary(summary, "demo-zibo")
    assert down["status"] == "unreachable" and down["failures"][0]["reason"] == "connection", down
    assert zibo["status"] == "ok" and zibo["reports_new"] == len(replica.expected("demo-zibo")), zibo
    with Archive(tmp_path / "x.db") as archive:
        row = archive.conn.execute("SELECT status FROM crawl_portal_status WHERE portal_id = 'demo-down'").fetchone()
        assert row["status"] == "unreachable"
        assert archive.conn.execute("SELECT status FROM crawl_runs").fetchone()["status"] == "partial"


def test_sigkill_mid_crawl_then_rerun_loses_and_duplicates_nothing(replica, tmp_path):
    db = tmp_path / "kill.db"
    # A polite delay keeps the crawl slow enough to be killed midway on a fast machine.
    cmd = [
        sys.executable,
        "-m",
        "crawler.cli",
        *crawl_args(db, replica.registry, "demo-rongxi", "-s", "DOWNLOAD_DELAY=0.25"),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if db.exists():
                with Archive(db) as archive:
                    if len(archive.reports.list(portal_id="demo-rongxi")) >= 5:
                        break
        os.killpg(proc.pid, signal.SIGKILL)  # the crawl and its archive worker, mid-way
    finally:
        proc.wait()
    with Archive(db) as archive:
        before = {(r.agency, r.year): r.sha256 for r in archive.reports.list(portal_id="demo-rongxi")}
    assert 5 <= len(before) < len(replica.expected("demo-rongxi"))
    summary = summary_of(xxgk(*crawl_args(db, replica.registry, "demo-rongxi")))
    assert portal_summary(summary, "demo-rongxi")["status"] == "ok"
    assert_every_report(replica, db, "demo-rongxi", replica.base_url)
    with Archive(db) as archive:
        after = {(r.agency, r.year): r.sha256 for r in archive.reports.list(portal_id="demo-rongxi")}
        assert archive.conn.execute("SELECT count(*) FROM report_versions").fetchone()[0] == len(after)
    assert all(after[k] == v for k, v in before.items())  # nothing archived before the kill changed or vanished


def test_the_lock_stops_an_overlapping_crawl(replica, tmp_path):
    db = tmp_path / "locked.db"
    with crawl_lock(db):
        done = xxgk(*crawl_args(db, replica.registry, "demo-zibo"))
    assert done.returncode == 2
    assert "another xxgk crawl is running" in done.stdout + done.stderr


def test_scrapy_list_and_scrapy_crawl_follow_the_registry(replica, tmp_path):
    env = {"XXGK_REGISTRY": str(replica.registry), "XXGK_DB": str(tmp_path / "s.db")}
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert listed.stdout.split() == sorted(
        ["generic", "demo-shenyang", "demo-wenzhou", "demo-zibo", "demo-jiaxing", "demo-dadukou", "demo-rongxi"]
    )
    settings = [
        a
        for k, v in {**FAST, "XXGK_ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32", "LOG_LEVEL": "WARNING"}.items()
        for a in ("-s", f"{k}={v}")
    ]
    crawled = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "demo-zibo", *settings],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=300,
    )
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert_every_report(replica, tmp_path / "s.db", "demo-zibo", replica.base_url)
    with Archive(tmp_path / "s.db") as archive:
        run = archive.conn.execute("SELECT command, status FROM crawl_runs").fetchone()
        assert (run["command"], run["status"]) == ("scrapy crawl", "ok")


def _site(root: Path) -> dict[str, str]:
    """A county portal shaped unlike the replicas: image navigation, a 信息公开 hub, the 年报 column holding one
    sub-list per department and a year folder, a title cut short without an ellipsis, a report behind
    downfile.jsp, and a GBK home page. Returns {agency: path of the document archived as its report}."""
    from datetime import date as day

    from crawler.replica.figures import seed_figures, series
    from crawler.replica.render import Report, article_html, to_docx

    seed = seed_figures()[4]

    def report(agency: str) -> Report:
        return Report(
            series(agency, [2023], seed=None)[2023], f"{agency}2023年政府信息公开工作年度报告", day(2024, 1, 20)
        )

    def page(title: str, body: str, head: str = "") -> str:
        return f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>{body}</body></html>'

    files = {
        "index.html": (
            '<html><head><meta charset="gb2312"><title>某某县人民政府门户网站</title></head><body><div id="nav">'
            '<a href="/index.html"><img src="/i/home.png" alt="首页"></a><a href="/zwgk/index.shtml"><img src="/i/zwgk.png" alt="政务公开"></a>'
            '</div><div class="news"><a href="/xw/1.html">县长调研城市更新</a></div></body></html>'
        ).encode("gbk"),
        "zwgk/index.shtml": page(
            "政务公开",
            '<ul class="menu"><li><a href="/zwgk/xxgk/index.shtml">信息公开</a></li><li><a href="/zwgk/zcjd/">政策解读</a></li></ul>',
        ),
        "zwgk/xxgk/index.shtml": page(
            "信息公开",
            '<div class="left"><a href="/zwgk/xxgk/zn.shtml">信息公开指南</a><a href="/zwgk/xxgk/nb/">信息公开年报</a></div>',
        ),
        "zwgk/xxgk/nb/index.html": page(
            "信息公开年报",
            '<table><tr><td><a href="/zwgk/xxgk/nb/bm/jyj/">县教育局</a></td><td><a href="/zwgk/xxgk/nb/bm/mzj/index.html">县民政局</a></td>'
            '<td><a href="2023/">2023年度</a></td></tr></table><ul><li><a href="/zwgk/xxgk/nb/202403/t20240325_1.html">'
            "某某县人民政府2023年度政府信息公开工作年度报</a> 2024-03-25</li></ul>",
        ),
        "zwgk/xxgk/nb/202403/t20240325_1.html": page(
            "某某县人民政府2023年度政府信息公开工作年度报告_某某县人民政府",
            '<div class="top"><a href="/sqb.doc">依申请公开申请表.doc</a></div><div class="con"><p>发布时间：2024-03-25</p>'
            '<p>附件：<a href="/module/download/downfile.jsp?classid=0&filename=ab12.docx">2023年报.docx</a></p></div>',
        ),
        "module/download/downfile.jsp": to_docx(report("某某县人民政府")),
        "zwgk/xxgk/nb/bm/jyj/index.html": page(
            "县教育局",
            '<ul><li><a href="./t20240120_2.html">某某县教育局2023年政府信息公开工作年度报告</a><span>2024-01-20</span></li></ul>',
        ),
        "zwgk/xxgk/nb/bm/jyj/t20240120_2.html": page(
            "某某县教育局",
            f'<div class="TRS_Editor">{article_html(report("某某县教育局"))}</div>',
            '<meta name="PubDate" content="2024-01-20 10:00">',
        ),
        "zwgk/xxgk/nb/bm/mzj/index.html": page(
            "县民政局", f'<ul><li><a href="mz.html">{seed.agency}2023年政府信息公开工作年度报告</a></li></ul>'
        ),
        "zwgk/xxgk/nb/bm/mzj/mz.html": page(
            f"{seed.agency}2023年政府信息公开工作年度报告",
            f'<div class="info">发布日期：2024年01月22日</div>{article_html(report(seed.agency))}',
        ),
        "zwgk/xxgk/nb/2023/index.html": page(
            "2023年度",
            '<ul><li><a href="/zwgk/xxgk/nb/2023/hb.html">某某县环保局2023年政府信息公开工作年度报告</a></li></ul>',
        ),
        "zwgk/xxgk/nb/2023/hb.html": page(
            "某某县环保局2023年政府信息公开工作年度报告",
            f"<div>发布日期：2024年01月25日</div>{article_html(report('某某县环保局'))}",
        ),
    }
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return {
        "某某县人民政府": "/module/download/downfile.jsp?classid=0&filename=ab12.docx",
        "某某县教育局": "/zwgk/xxgk/nb/bm/jyj/t20240120_2.html",
        seed.agency: "/zwgk/xxgk/nb/bm/mzj/mz.html",
        "某某县环保局": "/zwgk/xxgk/nb/2023/hb.html",
    }


def test_the_generic_spider_on_a_portal_shaped_unlike_the_replicas(tmp_path):
    expected = _site(tmp_path / "site")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path / "site")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        registry = tmp_path / "registry.yaml"
        registry.write_text("portals: []\n", encoding="utf-8")  # the portal is not in any registry
        args = crawl_args(tmp_path / "g.db", registry)
        done = xxgk(*args, "--url", f"{base}/index.html", "--agency", "某某县人民政府", "--kind", "government")
    finally:
        server.terminate()
        server.wait()
    (p,) = summary_of(done)["portals"]
    assert p["status"] == "ok", p
    with Archive(tmp_path / "g.db") as archive:
        rows = {r.agency: r for r in archive.reports.list()}
    assert {a: r.source_url for a, r in rows.items()} == {a: base + u for a, u in expected.items()}
    assert all(r.year == 2023 and r.parse_status == "ok" for r in rows.values())
    assert rows["某某县人民政府"].published_at == "2024-03-25"  # the attachment's page said so
