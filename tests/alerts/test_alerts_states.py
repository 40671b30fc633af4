"""Alert states over time: inconsistent → corrected, cross-year, and crawler-health alerts routed apart."""

from datetime import date

import pytest
from support.alerting import Recorder, write_config
from support.shared import expected_for, seed_paths

from crawler import ingest as write_path
from crawler.alerts import Targets, deliver, queue_alerts
from crawler.model import IncomingDocument
from crawler.monitor.checks import run_checks
from crawler.registry import parse_registry
from storage import Archive

SHENYANG = "沈阳市人民防空办公室"


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def registry(first_year: int = 2020, verified: bool = False):
    return parse_registry(
        {
            "portals": [
                {
                    "id": "shenyang",
                    "name": "沈阳市人民政府",
                    "cms": "trs",
                    "start_url": "http://127.0.0.1:9/zfxxgknb/",
                    "domains": ["127.0.0.1"],
                    "verified": verified,
                    "agencies": [
                        {
                            "name": SHENYANG,
                            "kind": "department",
                            "province": "辽宁省",
                            "city": "沈阳市",
                            "first_year": first_year,
                        }
                    ],
                }
            ]
        }
    )


def cycle(archive, reg, targets, today="2021-01-25"):
    """One `xxgk check`: checks, alerts queued, delivered."""
    summary = run_checks(archive, reg, date.fromisoformat(today), capture=None)
    queue_alerts(archive, reg, summary, date.fromisoformat(today), base_url="http://archive.test")
    return deliver(archive, targets)


def shenyang_text() -> str:
    return next(p for p in seed_paths() if expected_for(p)["agency"] == SHENYANG).read_text(encoding="utf-8")


def ingest(archive, text: str, year: int = 2020, url: str = "http://127.0.0.1:9/zfxxgknb/t1.html"):
    return write_path.ingest(
        archive,
        IncomingDocument(
            text.encode("utf-8"),
            url=url,
            agency=SHENYANG,
            year=year,
            published_at=f"{year + 1}-01-21",
            published_source="visible",
            portal_id="shenyang",
        ),
    )


def test_inconsistent_report_alerts_once_then_corrected(tmp_path, recorder):
    targets = Targets.load(write_config(tmp_path / "apprise.yml", recorder.port))
    reg = registry()
    good = shenyang_text()
    bad = good.replace("（七）总计\n\t1\n", "（七）总计\n\t2\n", 1)  # natural persons' (七)总计 1 → 2
    assert bad != good
    with Archive(tmp_path / "x.db") as archive:
        ingest(archive, bad)
        result = cycle(archive, reg, targets)
        posts = recorder.take()
        titles = sorted(p["title"] for _, p in posts)
        assert result.sent == len(posts) == 3  # balance, row total and result rows all involve that cell
        assert all(t.startswith("【数据不一致】沈阳市人民防空办公室2020年度报告") for t in titles)
        assert any("表三勾稽关系" in t for t in titles)
        body = next(p["message"] for _, p in posts if "表三勾稽关系" in p["title"])
        assert "（七）总计/自然人（2）" in body and "http://archive.test/-/original/" in body

        assert cycle(archive, reg, targets).sent == 0 and recorder.take() == []  # no flood on the next run

        ingest(archive, good)  # the agency replaces the file: a new version
        cycle(archive, reg, targets)
        posts = recorder.take()
        corrected = [p for _, p in posts if p["title"].startswith("【已更正】")]
        assert len(corrected) == 3 and all(p["type"] == "success" for p in corrected)
        # …and the replacement is itself news: the report was changed after publication, in that one cell.
        (edit,) = [p for _, p in posts if p not in corrected]
        assert edit["title"] == f"【发布后修改】{SHENYANG}2020年度政府信息公开工作年度报告"
        assert "（七）总计/自然人：2 → 1" in edit["message"]
        assert cycle(archive, reg, targets).sent == 0 and recorder.take() == []


def test_cross_year_mismatch_is_found_and_alerted(tmp_path, recorder, real_pdf):
    """This year's 上年结转 (34, the Huaian figures) against last year's 结转下年度 (0)."""
    targets = Targets.load(write_config(tmp_path / "apprise.yml", recorder.port))
    reg = registry(first_year=2020)
    with Archive(tmp_path / "x.db") as archive:
        ingest(archive, shenyang_text(), 2020)
        write_path.ingest(
            archive,
            IncomingDocument(
                real_pdf.read_bytes(),
                url="http://127.0.0.1:9/zfxxgknb/2021.pdf",
                agency=SHENYANG,
                year=2021,
                portal_id="shenyang",
            ),
        )
        cycle(archive, reg, targets, today="2022-01-25")
        report = archive.reports.for_agency_year(SHENYANG, 2021)
        cross = [f for f in archive.reports.findings(report.id, "cross_year") if f.status == "fail"]
        assert {f.data["scope"] for f in cross} == {"natural_person", "total"}
        assert "34" in cross[0].message and "2020年度报告" in cross[0].message
        titles = [p["title"] for _, p in recorder.take()]
        assert titles.count("【数据不一致】沈阳市人民防空办公室2021年度报告：上年结转数与上年报告不符") == 2
        assert archive.reports.get(report.id).failing_checks == 2  # the PDF itself is consistent
        earlier = archive.reports.for_agency_year(SHENYANG, 2020)
        assert archive.reports.findings(earlier.id, "cross_year") == []  # no 2019 report to compare with


def test_health_alerts_go_to_the_health_target_only(tmp_path, recorder):
    targets = Targets.load(write_config(tmp_path / "apprise.yml", recorder.port))
    reg = registry(verified=True)
    with Archive(tmp_path / "x.db") as archive:
        for _ in range(2):
            run = archive.runs.start("test")
            archive.runs.record_portal(run, "shenyang", "unreachable", "DNSLookupError: www.shenyang.gov.cn")
        cycle(archive, reg, targets)
        assert recorder.take() == []  # two failed runs: not yet (N = 3)
        run = archive.runs.start("test")
        archive.runs.record_portal(run, "shenyang", "unreachable", "DNSLookupError: www.shenyang.gov.cn")
        cycle(archive, reg, targets)
        (post,) = recorder.take()
        assert post[0] == "/ops" and post[1]["title"] == "【采集异常】门户连续3次无法访问：沈阳市人民政府"
        assert "DNSLookupError" in post[1]["message"] and post[1]["type"] == "failure"

        run = archive.runs.start("test")  # back up: the column walked to its end, but no report archived
        archive.runs.record_portal(
            run, "shenyang", "ok", pages=3, listing_complete=True, listing_pages=["http://127.0.0.1:9/zfxxgknb/"]
        )
        cycle(archive, reg, targets, today="2021-02-02")
        posts = recorder.take()
        titles = sorted(p["title"] for path, p in posts if path == "/ops")
        assert titles == ["【采集异常】门户未找到任何年度报告：沈阳市人民政府", "【采集恢复】沈阳市人民政府"]
        data = [p["title"] for path, p in posts if path != "/ops"]
        assert data == ["【逾期未公开】沈阳市人民防空办公室2020年度政府信息公开工作年度报告"]  # to the data target

        write_path.ingest(
            archive,
            IncomingDocument(
                b"%PDF-1.4 truncated",
                url="http://127.0.0.1:9/zfxxgknb/broken.pdf",
                agency=SHENYANG,
                year=2020,
                portal_id="shenyang",
            ),
        )
        cycle(archive, reg, targets, today="2021-02-02")
        posts = recorder.take()
        health = [p["title"] for path, p in posts if path == "/ops"]
        assert "【采集恢复】沈阳市人民政府" in health  # reports found again: empty → recovered
        assert any(t.startswith("【解析失败】") for t in health)
        # a published file counts for the deadline even unparsed; dated by our first sighting only
        (late,) = [p for path, p in posts if path != "/ops"]
        assert late["title"] == "【已补发，逾期公开】沈阳市人民防空办公室2020年度政府信息公开工作年度报告"
        assert "首次发现日期" in late["message"]
