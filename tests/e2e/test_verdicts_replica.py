"""How we will know (issue 10): on a registry holding a real portal replay where every report is on time, plus a
portal that never answers, `xxgk check` raises no 逾期未公开 alert, and the dead portal's agency is unverified
(未能核实) with one crawler-health alert; Datasette's canned query shows it as unverified, with its reason."""

import json
import subprocess
import sys
from datetime import date
from importlib import resources

import pytest
import yaml
from support.alerting import Recorder, write_config
from support.serving import free_port

from crawler.alerts import check_and_alert
from crawler.registry import Agency, load_registry
from crawler.replica import ReplicaServer
from crawler.rules.deadline import beijing_date
from storage import Archive
from storage.db import sqlite3

REPLAY = "demo-zibo"  # the JSON-API replica: every report of 2019–2025 published on time
DEAD = "某县人民政府"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "XXGK_RETRY_BACKOFF_BASE=0.1"]


@pytest.fixture
def registry(tmp_path):
    with ReplicaServer() as server:
        full = yaml.safe_load(server.registry_path(tmp_path).read_text(encoding="utf-8"))
        portals = [p for p in full["portals"] if p["id"] == REPLAY]
        dead = f"http://127.0.0.1:{free_port()}/zwgk/zfxxgknb/index.html"
        portals.append(
            {
                "id": "dead-county",
                "name": "某县人民政府（从不应答）",
                "cms": "generic",
                "start_url": dead,
                "domains": ["127.0.0.1"],
                "verified": True,  # even a verified listing proves nothing when it was never seen
                "agencies": [{"name": DEAD, "kind": "government", "province": "浙江省", "first_year": 2019}],
            }
        )
        path = tmp_path / "registry.yaml"
        path.write_text(yaml.safe_dump({"portals": portals}, allow_unicode=True), encoding="utf-8")
        yield path


def xxgk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=300)


def test_a_dead_portal_is_unverified_never_missing(tmp_path, registry):
    recorder = Recorder()
    db = tmp_path / "x.db"
    try:
        crawl = xxgk("crawl", "--db", str(db), "--registry", str(registry), "--allow-network", "127.0.0.1/32", *FAST)
        assert crawl.returncode == 1, crawl.stdout[-3000:] + crawl.stderr[-3000:]  # one portal unreachable
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        check = xxgk(
            "check", "--db", str(db), "--registry", str(registry), "--notify", str(config), "--today", "2026-04-10",
            "--no-screenshots", "--alert-since", "2019",  # the whole history, not only the current cycle
        )  # fmt: skip
        assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
        posts = recorder.take()
        assert not [p for _, p in posts if "逾期未公开" in p["title"]]
        health = [p["title"] for path, p in posts if path == "/ops"]
        assert health == ["【采集异常】某县人民政府（从不应答）：1个机关无法核实"]
        assert "unverified 7" in check.stdout and "missing 0" in check.stdout

        with Archive(db) as archive:
            (run,) = archive.runs.history("dead-county", 5)
            assert run["status"] == "unreachable"
            crawled_on = beijing_date(run["started_at"])
            for year in range(2019, 2026):
                row = archive.deadlines.get(DEAD, year)
                due = Agency(DEAD, "government").deadline_for(year)
                assert row["status"] == "unverified"
                assert row["reason"] == ("crawl_failed" if crawled_on > due else "never_crawled")
                assert json.loads(row["basis"])["listing_known_by"] == ["verified"]
                replay = archive.conn.execute(
                    "SELECT d.status FROM deadline_status d JOIN agencies a ON a.id = d.agency_id "
                    "WHERE d.year = ? AND a.portal_id = ?",
                    (year, REPLAY),
                ).fetchall()
                assert [r[0] for r in replay] == ["on_time", "on_time"]
        query = resources.files("storage.datasette.queries").joinpath("late_or_missing.sql").read_text("utf-8")
        with sqlite3.connect(db) as conn:  # the canned query journalists open in Datasette
            conn.row_factory = sqlite3.Row
            rows = [dict(r) for r in conn.execute(query, {"year": "2024", "province": ""})]
        due = Agency(DEAD, "government").deadline_for(2024)
        assert [(r["agency"], r["deadline_status"], r["unverified_reason"]) for r in rows] == [
            (DEAD, "unverified", "crawl_failed" if crawled_on > due else "never_crawled")
        ]
    finally:
        recorder.close()


@pytest.mark.browser
def test_the_proof_of_absence_shows_every_page_of_the_walked_listing(tmp_path):
    """沈阳's replica lists its reports on two pages; an agency declared there that never published is missing,
    and its proof is one stamped screenshot per list page, each linked from the alert."""
    absent = "沈阳市审计局"
    with ReplicaServer() as server:
        full = yaml.safe_load(server.registry_path(tmp_path).read_text(encoding="utf-8"))
        (portal,) = [p for p in full["portals"] if p["id"] == "demo-shenyang"]
        portal["agencies"].append({"name": absent, "kind": "department", "province": "辽宁省", "first_year": 2024})
        path = tmp_path / "registry.yaml"
        path.write_text(yaml.safe_dump({"portals": [portal]}, allow_unicode=True), encoding="utf-8")
        db = tmp_path / "x.db"
        crawl = xxgk("crawl", "--db", str(db), "--registry", str(path), "--allow-network", "127.0.0.1/32", *FAST)
        assert crawl.returncode == 0, crawl.stdout[-3000:] + crawl.stderr[-3000:]
        printed: list[str] = []
        outcome = check_and_alert(
            db, load_registry(path), date(2026, 4, 10), dry_run=True, allow_networks=["127.0.0.1/32"],
            alert_since=2024, public_url="http://archive.test", echo=printed.append,
        )  # fmt: skip
    assert outcome.summary.deadline_counts()["missing"] == 2  # its 2024 and 2025 reports
    with Archive(db) as archive:
        row = archive.deadlines.get(absent, 2024)
        pages = json.loads(row["pages_checked"])
        shots = archive.deadlines.evidence_set(row["evidence_id"])
        assert len(pages) == 2 and [s["url"] for s in shots] == pages and [s["page"] for s in shots] == [1, 2]
        assert all(archive.store.read(s["sha256"]).startswith(b"\x89PNG") for s in shots)
        assert {s["set_id"] for s in shots[1:]} == {row["evidence_id"]}
    (message,) = [m for m in printed if m.startswith(f"--- 【逾期未公开】{absent}2024")]
    assert "检查时的截图第1页" in message and "检查时的截图第2页" in message and "（北京时间）" in message
    assert all(f"http://archive.test/-/original/{s['sha256']}" in message for s in shots)
