"""The deadline monitor: statuses from dates, decisions stored with evidence, screenshots as proof."""

import json
import threading
from datetime import date
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.alerting import record_crawl
from support.serving import free_port
from support.shared import expected_for, seed_paths

from crawler.alerts import queue_alerts
from crawler.alerts.events import Links
from crawler.alerts.messages import beijing_time
from crawler.ingest import ingest
from crawler.model import IncomingDocument
from crawler.monitor.checks import run_checks
from crawler.registry import Agency, parse_registry
from crawler.rules.deadline import Crawl, Evidence, Publication, decide, report_years
from storage import Archive

DEPT = Agency("某市人民防空办公室", "department", province="浙江省", first_year=2019)
GOV = Agency("某市人民政府", "government", province="浙江省", first_year=2019)


PROVEN = Evidence(
    crawls=(Crawl(1, date(2021, 12, 1), "2021-12-01T02:00:00Z", "ok", True, ("http://127.0.0.1:9/nb/",)),),
    verified=True,
)


def pub(day: str, source: str = "visible") -> Publication:
    return Publication(1, date.fromisoformat(day), source, "http://127.0.0.1:9/a.html")


@pytest.mark.parametrize(
    "agency, found, today, status, days",
    [
        (DEPT, None, "2021-01-31", "pending", None),  # due at the end of the day
        (DEPT, None, "2021-02-01", "missing", 1),
        (DEPT, "2021-01-31", "2021-02-01", "on_time", None),
        (DEPT, "2021-02-03", "2021-02-10", "late", 3),
        (GOV, None, "2021-02-01", "pending", None),  # governments have until Mar 31
        (GOV, None, "2021-04-05", "missing", 5),
        (GOV, "2021-03-31", "2021-04-05", "on_time", None),
        (GOV, "2021-04-01", "2021-04-05", "late", 1),
        (Agency("某区人民政府", "government", deadline="02-20"), "2021-02-21", "2021-03-01", "late", 1),  # local rule
    ],
)
def test_decide(agency, found, today, status, days):
    # the absence is proven: a complete crawl of a verified listing after the deadline (tests/rules/test_evidence.py)
    d = decide(agency, 2020, pub(found) if found else None, date.fromisoformat(today), PROVEN)
    assert (d.status, d.days_late) == (status, days)
    assert d.deadline == agency.deadline_for(2020)


def test_a_date_known_only_from_first_sighting_is_flagged_as_an_upper_bound():
    d = decide(DEPT, 2020, pub("2021-03-01", "first_seen"), date(2021, 3, 2))
    assert d.status == "late" and "首次发现" in d.note


def test_report_years_run_from_first_year_to_last_year():
    assert list(report_years(DEPT, date(2021, 2, 1))) == [2019, 2020]
    assert list(report_years(Agency("x", "department", first_year=2021), date(2021, 6, 1))) == []


def registry_for(listing_url: str, verified: bool = False):
    return parse_registry(
        {
            "portals": [
                {
                    "id": "wenzhou",
                    "name": "温州市人民政府",
                    "cms": "hanweb",
                    "start_url": "http://127.0.0.1:9/",
                    "domains": ["127.0.0.1"],
                    "verified": verified,
                    "agencies": [
                        {
                            "name": "温州市人民防空办公室",
                            "kind": "department",
                            "province": "浙江省",
                            "first_year": 2020,
                            "listing_url": listing_url,
                        },
                        {
                            "name": "温州市人民政府",
                            "kind": "government",
                            "province": "浙江省",
                            "first_year": 2020,
                            "listing_url": listing_url,
                        },
                    ],
                }
            ]
        }
    )


def test_decisions_are_stored_with_their_evidence(tmp_path):
    seed = next(p for p in seed_paths() if expected_for(p)["agency"] == "温州市人民防空办公室")
    registry = registry_for("http://127.0.0.1:9/nb/")
    with Archive(tmp_path / "x.db") as archive:
        ingest(archive, IncomingDocument(
            seed.read_bytes(), url="http://127.0.0.1:9/nb/a.html", agency="温州市人民防空办公室", year=2020,
            published_at="2021-01-20", published_source="visible", portal_id="wenzhou",
        ))  # fmt: skip
        summary = run_checks(archive, registry, date(2021, 2, 1), capture=None)
        by_agency = {r.agency.name: r.decision.status for r in summary.deadlines}
        assert by_agency == {"温州市人民防空办公室": "on_time", "温州市人民政府": "pending"}
        row = archive.deadlines.get("温州市人民防空办公室", 2020)
        assert (row["status"], row["published_at"], row["published_source"]) == ("on_time", "2021-01-20", "visible")
        assert json.loads(row["pages_checked"]) == ["http://127.0.0.1:9/nb/", "http://127.0.0.1:9/"]
        assert "2021-02-01" in row["note"] and "尚无采集记录" in row["note"]
        gov = archive.deadlines.get("温州市人民政府", 2020)
        assert gov["status"] == "pending" and gov["report_id"] is None


class ListingPage:
    """A portal's annual-report column served on 127.0.0.1, for the screenshot."""

    def __init__(self, root):
        (root / "nb").mkdir(parents=True)
        (root / "nb" / "index.html").write_text(
            "<!doctype html><meta charset=utf-8><title>政府信息公开年报</title>"
            "<h1>政府信息公开年报</h1><ul><li>2019年度政府信息公开工作年度报告 2020-01-20</li></ul>",
            encoding="utf-8",
        )
        handler = partial(SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a: None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/nb/index.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.browser
def test_missing_report_gets_a_chromium_screenshot_in_the_archive(tmp_path, monkeypatch):
    monkeypatch.delenv("XXGK_ALLOWED_PRIVATE_NETWORKS", raising=False)
    loopback = ["127.0.0.1/32"]  # the listing is served on loopback, as a crawl's --allow-network would allow
    site = ListingPage(tmp_path / "site")
    try:
        registry = registry_for(site.url, verified=True)
        with Archive(tmp_path / "x.db") as archive:
            # the evidence of absence: a crawl after both deadlines walked the listing to its end
            record_crawl(archive, "wenzhou", [site.url], started_at="2021-04-01T02:00:00Z")
            summary = run_checks(archive, registry, date(2021, 4, 2), allow_networks=loopback)
            assert {r.decision.status for r in summary.deadlines} == {"missing"}
            row = archive.deadlines.get("温州市人民防空办公室", 2020)
            evidence = archive.conn.execute("SELECT * FROM evidence WHERE id = ?", (row["evidence_id"],)).fetchone()
            assert evidence["url"] == site.url and evidence["kind"] == "screenshot"
            png = archive.store.read(evidence["sha256"])
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
            # both agencies list on the same page: one picture, kept once in the document store
            gov = archive.deadlines.get("温州市人民政府", 2020)
            same = archive.conn.execute("SELECT sha256 FROM evidence WHERE id = ?", (gov["evidence_id"],)).fetchone()[0]
            assert same == evidence["sha256"]

            queue_alerts(archive, registry, summary, date(2021, 4, 2), base_url="http://archive.test")
            alert = archive.alerts.get("deadline|温州市人民防空办公室|2020")
            assert f"http://archive.test/-/original/{evidence['sha256']}" in alert.body
            assert beijing_time(evidence["captured_at"]) in alert.body  # the check time, in Beijing time

            # the next run keeps the proof it has instead of taking another picture
            run_checks(archive, registry, date(2021, 4, 3), allow_networks=loopback)
            assert archive.conn.execute("SELECT count(*) FROM evidence").fetchone()[0] == 2
            assert archive.deadlines.get("温州市人民防空办公室", 2020)["evidence_id"] == row["evidence_id"]
    finally:
        site.close()


@pytest.mark.browser
def test_unreachable_listing_page_is_noted_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("XXGK_ALLOWED_PRIVATE_NETWORKS", "127.0.0.1/32")
    port = free_port()  # a port nothing listens on
    registry = registry_for(f"http://127.0.0.1:{port}/nowhere/", verified=True)
    with Archive(tmp_path / "x.db") as archive:
        record_crawl(archive, "wenzhou", [f"http://127.0.0.1:{port}/nowhere/"], started_at="2021-04-01T02:00:00Z")
        run_checks(archive, registry, date(2021, 4, 2))
        row = archive.deadlines.get("温州市人民防空办公室", 2020)
        assert row["status"] == "missing" and row["evidence_id"] is None
        assert "截图失败" in row["note"] and "net::ERR_" in row["note"] and f":{port}/nowhere/" in row["note"]


def test_links_point_at_the_archived_original():
    assert Links("http://h:8001").original("ab" * 32) == "http://h:8001/-/original/" + "ab" * 32
    assert Links("http://h:8001").original(None) is None
