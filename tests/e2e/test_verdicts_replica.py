"""How we will know (issue 10): on a registry holding a real portal replay where every report is on time, plus a
portal that never answers, `xxgk check` raises no 逾期未公开 alert, and the dead portal's agency is unverified
(未能核实) with one crawler-health alert; Datasette's canned query shows it as unverified, with its reason."""

import json
import socket
import subprocess
import sys
from importlib import resources

import pytest
import yaml
from support.alerting import Recorder, write_config

from crawler.registry import Agency
from crawler.replica import ReplicaServer
from crawler.rules.deadline import beijing_date
from storage import Archive
from storage.db import sqlite3

REPLAY = "demo-zibo"  # the JSON-API replica: every report of 2019–2025 published on time
DEAD = "某县人民政府"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "XXGK_RETRY_BACKOFF_BASE=0.1"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry(tmp_path):
    with ReplicaServer() as server:
        full = yaml.safe_load(server.registry_path(tmp_path).read_text(encoding="utf-8"))
        portals = [p for p in full["portals"] if p["id"] == REPLAY]
        dead = f"http://127.0.0.1:{closed_port()}/zwgk/zfxxgknb/index.html"
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
