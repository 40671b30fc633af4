"""Absence only with evidence: each rule of the verdict, pure (crawler.rules.deadline.decide) and as the monitor
gathers it from the archive (crawler.monitor.checks), with the basis stored beside the verdict."""

import json
from datetime import date

import pytest
from support.alerting import record_crawl
from support.shared import expected_for, seed_paths

from crawler.alerts import queue_alerts
from crawler.ingest import ingest
from crawler.model import IncomingDocument
from crawler.monitor.checks import run_checks
from crawler.registry import Agency, parse_registry
from crawler.rules.deadline import (
    Crawl,
    Evidence,
    beijing_date,
    decide,
    in_alert_cycle,
    kind_from_name,
    resolve_kind,
)
from storage import Archive

DEPT = Agency("某市人民防空办公室", "department", first_year=2019)  # 2020 report due 2021-01-31
TODAY = date(2021, 3, 1)
LISTING = "http://127.0.0.1:9/nb/"


def crawl(started: str, status: str = "ok", complete: bool = True, pages=(LISTING,), run_id: int = 1) -> Crawl:
    return Crawl(run_id, beijing_date(started), started, status, complete, tuple(pages))


AFTER = "2021-02-10T02:00:00Z"
BEFORE = "2021-01-20T02:00:00Z"


def verdict(evidence: Evidence):
    return decide(DEPT, 2020, None, TODAY, evidence)


# --- the pure rule ---------------------------------------------------------------------------------------
def test_no_evidence_at_all_is_never_missing():
    d = decide(DEPT, 2020, None, TODAY)
    assert (d.status, d.reason, d.days_late) == ("unverified", "never_crawled", None)
    assert d.basis["crawled_after_deadline"] is False and d.basis["listing_known"] is False


def test_never_crawled_after_the_deadline():
    d = verdict(Evidence(crawls=(crawl(BEFORE),), verified=True))  # a complete crawl, but before the deadline
    assert (d.status, d.reason) == ("unverified", "never_crawled")
    assert d.basis["runs_after_deadline"] == 0 and d.basis["listing_known"] is True
    assert "未采集" in d.note and "逾期未公开" not in d.note


@pytest.mark.parametrize(
    "after",
    [
        crawl(AFTER, "unreachable", False, ()),
        crawl(AFTER, "error", False, ()),
        crawl(AFTER, "ok", True, ()),  # answered, but no list page showed a report entry: nothing was seen
        crawl(AFTER, "running", True),  # killed mid-crawl: never finished
    ],
)
def test_crawl_failed(after):
    d = verdict(Evidence(crawls=(after, crawl(BEFORE, run_id=0)), verified=True))
    assert (d.status, d.reason) == ("unverified", "crawl_failed")
    assert d.basis["crawled_after_deadline"] is False and d.basis["runs_after_deadline"] == 1
    assert d.basis["run_status"] == after.status


@pytest.mark.parametrize("status", ["ok", "partial", "empty"])
def test_listing_incomplete(status):
    d = verdict(Evidence(crawls=(crawl(AFTER, status, complete=False),), verified=True))
    assert (d.status, d.reason) == ("unverified", "listing_incomplete")
    assert d.basis["crawled_after_deadline"] is True and d.basis["listing_complete"] is False
    assert d.basis["listing_known"] is True  # every condition is recorded, not only the first that failed


def test_listing_unproven():
    d = verdict(Evidence(crawls=(crawl(AFTER),), verified=False, other_years=()))
    assert (d.status, d.reason) == ("unverified", "listing_unproven")
    assert d.basis["crawled_after_deadline"] and d.basis["listing_complete"] and not d.basis["listing_known"]


@pytest.mark.parametrize(
    "verified, other_years, known_by",
    [(True, (), ["verified"]), (False, (2019,), ["archive"]), (True, (2019, 2021), ["verified", "archive"])],
)
def test_all_held_is_missing(verified, other_years, known_by):
    d = verdict(Evidence(crawls=(crawl(AFTER, run_id=7),), verified=verified, other_years=other_years))
    assert (d.status, d.reason, d.days_late) == ("missing", None, 29)
    assert d.basis["listing_known_by"] == known_by and d.basis["other_years"] == list(other_years)
    assert d.basis["run_id"] == 7 and d.basis["listing_pages"] == [LISTING]
    assert d.crawl.listing_pages == (LISTING,)


def test_a_later_failed_crawl_does_not_undo_a_proven_absence():
    """The newest crawl that walked the listing to its end establishes the absence, not merely the newest."""
    later = crawl("2021-02-20T02:00:00Z", "unreachable", False, (), run_id=9)
    proven = crawl(AFTER, run_id=8)
    d = verdict(Evidence(crawls=(later, proven), verified=True))
    assert d.status == "missing" and d.basis["run_id"] == 8


def test_the_deadline_is_a_beijing_date():
    """A run at 23:00 Beijing on the deadline day is not after it; one at 00:30 the next day is."""
    on_the_day = crawl("2021-01-31T15:00:00Z")  # 23:00 Beijing
    next_day = crawl("2021-01-31T16:30:00Z")  # 00:30 Beijing, Feb 1
    assert verdict(Evidence(crawls=(on_the_day,), verified=True)).reason == "never_crawled"
    assert verdict(Evidence(crawls=(next_day,), verified=True)).status == "missing"


def test_no_portal_is_unmonitored_and_found_reports_need_no_evidence():
    assert verdict(Evidence(monitored=False)).status == "unmonitored"
    assert decide(DEPT, 2020, None, date(2021, 1, 31)).status == "pending"  # not due: no evidence needed


@pytest.mark.parametrize(
    "name, kind",
    [
        ("嘉兴市人民政府", "government"),
        ("淮安市政府", "government"),  # the short form a title often prints
        ("嘉兴市人民政府办公室", "department"),  # a government's office is a department
        ("浙江省人民政府办公厅", "department"),
        ("温州市人民防空办公室", "department"),
        ("重庆市大渡口区教育委员会", "department"),
    ],
)
def test_kind_from_name(name, kind):
    assert kind_from_name(name) == kind
    assert resolve_kind(None, name) == (kind, "name")
    assert resolve_kind("department", name) == ("department", "registry")  # the registry's word wins


def test_alert_cycle():
    today = date(2026, 4, 10)
    gov, dept = Agency("x市人民政府", "government"), Agency("x局", "department")
    assert in_alert_cycle(gov.deadline_for(2025), 2025, today)  # 2026-03-31
    assert in_alert_cycle(dept.deadline_for(2025), 2025, today)  # 2026-01-31
    assert not in_alert_cycle(gov.deadline_for(2024), 2024, today)  # 2025-03-31: more than 12 months ago
    assert in_alert_cycle(gov.deadline_for(2024), 2024, date(2025, 4, 1))
    assert in_alert_cycle(gov.deadline_for(2026), 2026, today)  # not due yet: current
    assert in_alert_cycle(gov.deadline_for(2019), 2019, today, alert_since=2019)
    assert not in_alert_cycle(gov.deadline_for(2019), 2019, today, alert_since=2020)


# --- the monitor gathers the evidence from the archive ---------------------------------------------------
AGENCY = "温州市人民防空办公室"


def registry(verified: bool):
    return parse_registry(
        {
            "portals": [
                {
                    "id": "wenzhou",
                    "name": "温州市人民政府",
                    "cms": "hanweb",
                    "start_url": LISTING,
                    "domains": ["127.0.0.1"],
                    "verified": verified,
                    "agencies": [{"name": AGENCY, "kind": "department", "province": "浙江省", "first_year": 2019}],
                }
            ]
        }
    )


def seed() -> bytes:
    return next(p for p in seed_paths() if expected_for(p)["agency"] == AGENCY).read_bytes()


def archive_2019(archive) -> None:
    """The agency's 2019 report, crawled from this portal: the listing is where it publishes."""
    ingest(
        archive,
        IncomingDocument(
            seed(), url=LISTING + "2019.html", agency=AGENCY, year=2019, published_at="2020-01-20",
            published_source="visible", portal_id="wenzhou",
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    "verified, crawled, archived, status, reason",
    [
        (True, None, False, "unverified", "never_crawled"),
        (
            True,
            dict(status="unreachable", listing_pages=[], listing_complete=False),
            False,
            "unverified",
            "crawl_failed",
        ),
        (True, dict(listing_pages=[LISTING], listing_complete=False), False, "unverified", "listing_incomplete"),
        (False, dict(listing_pages=[LISTING]), False, "unverified", "listing_unproven"),
        (True, dict(listing_pages=[LISTING]), False, "missing", None),
        (False, dict(listing_pages=[LISTING]), True, "missing", None),  # shown by the agency's 2019 report
    ],
)
def test_the_monitor_stores_the_verdict_with_its_basis(tmp_path, verified, crawled, archived, status, reason):
    reg = registry(verified)
    with Archive(tmp_path / "x.db") as archive:
        if archived:
            archive_2019(archive)
        if crawled:
            record_crawl(archive, "wenzhou", started_at=AFTER, **crawled)
        summary = run_checks(archive, reg, TODAY, capture=None)
        row = archive.deadlines.get(AGENCY, 2020)
        assert (row["status"], row["reason"], row["expectation"]) == (status, reason, "declared")
        basis = json.loads(row["basis"])
        assert basis["kind"] == "department" and basis["kind_source"] == "registry"
        assert basis["listing_known"] == (verified or archived)
        assert basis["listing_known_by"] == (["verified"] if verified else []) + (["archive"] if archived else [])
        if status == "missing":
            assert row["days_late"] == 29 and json.loads(row["pages_checked"]) == [LISTING]
        else:
            assert row["days_late"] is None and "无法核实" in row["note"]

        queue_alerts(archive, reg, summary, TODAY, base_url="http://archive.test")
        deadline_alert = archive.alerts.get(f"deadline|{AGENCY}|2020")
        health = archive.alerts.get("health|unverified|wenzhou")
        if status == "missing":
            assert deadline_alert.state == "missing" and health is None
            assert "采集完整走完年报栏目" in deadline_alert.body  # the message says what the verdict rests on
        else:  # never a data alert; one health alert for the portal, with the reason
            assert deadline_alert is None
            assert health.title == "【采集异常】温州市人民政府：1个机关无法核实"
            assert health.tags == sorted(["health", "wenzhou", "unverified"])


def test_one_health_alert_per_portal_counts_agencies_and_reasons(tmp_path):
    reg = parse_registry(
        {
            "portals": [
                {
                    "id": "dead",
                    "name": "某县人民政府",
                    "cms": "generic",
                    "start_url": LISTING,
                    "domains": ["127.0.0.1"],
                    "verified": True,
                    "agencies": [
                        {"name": "某县人民政府", "kind": "government", "first_year": 2019},
                        {"name": "某县教育局", "kind": "department", "first_year": 2019},
                    ],
                }
            ]
        }
    )
    today = date(2022, 6, 1)
    with Archive(tmp_path / "x.db") as archive:
        for _ in range(2):
            record_crawl(
                archive, "dead", [], started_at="2022-05-01T02:00:00Z", status="unreachable", listing_complete=False
            )
        summary = run_checks(archive, reg, today, capture=None)
        assert summary.deadline_counts()["unverified"] == 6  # 2 agencies × 2019–2021
        queued = queue_alerts(archive, reg, summary, today, base_url="http://archive.test")
        assert queued["health.unverified"] == 1 and not [k for k in queued if k.startswith("deadline.")]
        (alert,) = archive.alerts.pending()
        assert alert.title == "【采集异常】某县人民政府：2个机关无法核实"
        assert (
            "截止日期后没有一次采集成功看到年报栏目（门户无法访问，或栏目中没有任何年报条目）：2个机关（2019—2021年度）"
            in alert.body
        )
        # the next check says nothing new
        assert queue_alerts(archive, reg, run_checks(archive, reg, today, capture=None), today)["health.unchanged"] == 1
