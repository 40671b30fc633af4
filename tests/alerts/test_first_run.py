"""No storms: a first check over years of history pushes the current cycle only (older verdicts are recorded,
browsable, suppressed for good unless alert_since asks for them), and many pending alerts for one target go as
one digest."""

from datetime import date

import pytest
from support.alerting import Recorder, record_crawl, write_config
from support.shared import expected_for, seed_paths

from crawler import ingest as write_path
from crawler.alerts import check_and_alert
from crawler.model import IncomingDocument
from crawler.registry import parse_registry
from storage import Archive

TODAY = date(2026, 4, 10)  # current cycle: report year 2025 (deadlines 2026-01-31 and 2026-03-31)
LISTING = "http://127.0.0.1:9/zfxxgknb/"
SHENYANG = "沈阳市人民防空办公室"


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def registry(*agencies: tuple[str, str]):
    return parse_registry(
        {
            "portals": [
                {
                    "id": "shenyang",
                    "name": "沈阳市人民政府",
                    "cms": "trs",
                    "start_url": LISTING,
                    "domains": ["127.0.0.1"],
                    "verified": True,
                    "agencies": [
                        {"name": name, "kind": kind, "province": "辽宁省", "city": "沈阳市", "first_year": 2019}
                        for name, kind in agencies
                    ],
                }
            ]
        }
    )


HISTORY = registry(("沈阳市人民政府", "government"), (SHENYANG, "department"))


def history_archive(db) -> None:
    """2019–2025 due, none found on a verified listing walked to its end last week; and the 人防办's 2020 report
    (crawled in 2021) is inconsistent: fourteen missing years and one inconsistency, all but two of them old."""
    good = next(p for p in seed_paths() if expected_for(p)["agency"] == SHENYANG).read_text(encoding="utf-8")
    bad = good.replace("（七）总计\n\t1\n", "（七）总计\n\t2\n", 1)
    with Archive(db) as archive:
        write_path.ingest(
            archive,
            IncomingDocument(
                bad.encode("utf-8"), url=LISTING + "t2020.html", agency=SHENYANG, year=2020,
                published_at="2021-01-21", published_source="visible", portal_id="shenyang",
            ),
        )  # fmt: skip
        record_crawl(archive, "shenyang", [LISTING], started_at="2026-04-03T02:00:00Z")


def check(db, config, **options):
    lines: list[str] = []
    outcome = check_and_alert(
        db, HISTORY, TODAY, notify=config, screenshots=False, public_url="http://archive.test",
        echo=lines.append, warn=lambda line: None, **options,
    )  # fmt: skip
    return outcome, outcome.lines()


def titles(posts) -> list[str]:
    return sorted(p["title"] for path, p in posts if path != "/ops")


def test_a_first_check_over_history_pushes_the_current_cycle_only(tmp_path, recorder):
    db = tmp_path / "x.db"
    history_archive(db)
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    outcome, lines = check(db, config)
    assert outcome.summary.deadline_counts()["missing"] == 13  # 2019–2025 × 2, less the 人防办's 2020 (found)
    assert titles(recorder.take()) == [
        "【逾期未公开】沈阳市人民政府2025年度政府信息公开工作年度报告",
        f"【逾期未公开】{SHENYANG}2025年度政府信息公开工作年度报告",
    ]
    assert "14 alerts about report years before the current cycle recorded, not sent" in "\n".join(lines)
    with Archive(db) as archive:  # recorded and browsable, not pushed
        held = archive.conn.execute(
            "SELECT kind, year FROM alerts WHERE delivery_status = 'suppressed' ORDER BY kind, year"
        ).fetchall()
        assert sorted({tuple(r) for r in held}) == [("data", 2020)] + [("deadline", y) for y in range(2019, 2025)]
        assert len(held) == 3 + 11  # three failing rules of the 2020 report; 6 years × 2 agencies less one found
        assert archive.conn.execute("SELECT count(*) FROM deadline_status WHERE status = 'missing'").fetchone()[0] == 13
    # they never flood later either
    check(db, config)
    assert recorder.take() == []


def test_alert_since_widens_the_window_and_releases_what_was_held(tmp_path, recorder):
    db = tmp_path / "x.db"
    history_archive(db)
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    check(db, config)
    assert len(titles(recorder.take())) == 2
    check(db, config, alert_since=2023)  # the operator asks for 2023 on: the held ones of 2023 and 2024 go out
    assert titles(recorder.take()) == [
        f"【逾期未公开】{name}{year}年度政府信息公开工作年度报告"
        for name in ("沈阳市人民政府", SHENYANG)
        for year in (2023, 2024)
    ]
    check(db, config)
    assert recorder.take() == []

    fresh = tmp_path / "fresh.db"
    history_archive(fresh)
    outcome, lines = check(fresh, config, alert_since=2019)  # the whole history, as the demo tells it
    posts = titles(recorder.take())
    assert len([t for t in posts if t.startswith("【逾期未公开】")]) == 13
    assert len([t for t in posts if t.startswith("【数据不一致】沈阳市人民防空办公室2020年度报告")]) == 3
    assert "recorded, not sent" not in "\n".join(lines)


def many(n: int):
    return registry(*((f"沈阳市第{i}局", "department") for i in range(n)))


@pytest.mark.parametrize("agencies, digested", [(20, False), (21, True)])
def test_more_than_twenty_data_alerts_for_one_target_go_as_one_digest(tmp_path, recorder, agencies, digested):
    db = tmp_path / "x.db"
    reg = many(agencies)
    record_crawl(db, "shenyang", [LISTING], started_at="2026-02-03T02:00:00Z")
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    lines: list[str] = []
    outcome = check_and_alert(
        db, reg, date(2026, 2, 10), notify=config, screenshots=False, echo=lines.append, warn=lambda line: None
    )
    posts = recorder.take()
    data = [p for path, p in posts if path.startswith("/newsroom/")]
    health = [p for path, p in posts if path == "/ops"]
    assert outcome.delivery.sent == agencies + 1 and outcome.delivery.failed == 0
    assert len(health) == 1 and health[0]["title"].startswith("【采集异常】")  # one health alert: not a digest
    summary = outcome.lines()[-1]
    if digested:
        (digest,) = data
        assert digest["title"].endswith(f"{agencies}条提醒") and digest["message"].count("【逾期未公开】") == agencies
        assert "1 sent as one digest per target (more than 20 data alerts pending)" in summary
        with Archive(db) as archive:
            assert archive.conn.execute("SELECT count(DISTINCT digest) FROM alert_deliveries").fetchone()[0] == 1
    else:
        assert len(data) == agencies and all(p["title"].startswith("【逾期未公开】") for p in data)
        assert "digest" not in summary
