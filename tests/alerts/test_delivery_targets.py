"""Delivery per target: a target that refused an alert is retried alone, the ones that took it are not sent it
again; a world-readable apprise config warns once; a version-5 archive keeps its delivery log."""

import os
import subprocess
import sys
from datetime import date

import pytest
from support.alerting import WENZHOU, Recorder, record_crawl, write_registry
from support.shared import expected_for, seed_paths

from crawler.alerts import Targets, check_and_alert
from crawler.ingest import ingest
from crawler.model import IncomingDocument
from crawler.registry import load_registry
from storage import Archive
from storage.db import connect
from storage.schema import migrate

LISTING = "http://127.0.0.1:9/nb/"


@pytest.fixture
def endpoints():
    up, down = Recorder(), Recorder()
    down.fail = True
    yield up, down
    up.close()
    down.close()


def two_targets(path, up: Recorder, down: Recorder):
    path.write_text(
        "urls:\n"
        f"  - json://127.0.0.1:{up.port}/desk-a/token-a:\n      - tag: data\n"
        f"  - json://127.0.0.1:{down.port}/desk-b/token-b:\n      - tag: data\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def setup(tmp_path):
    db = tmp_path / "x.db"
    registry = load_registry(write_registry(tmp_path / "registry.yaml", LISTING, verified=True))
    record_crawl(db, "wenzhou", [LISTING], started_at="2021-02-01T01:00:00Z")
    return db, registry


def check(db, registry, config, today="2021-02-01", **options):
    return check_and_alert(
        db, registry, date.fromisoformat(today), notify=config, screenshots=False, echo=lambda line: None, **options
    )


def data(posts) -> list[str]:
    return [p["title"] for _, p in posts if not p["title"].startswith("【采集")]


@pytest.mark.parametrize("digest", [False, True])
def test_a_failed_target_is_retried_alone(tmp_path, endpoints, digest):
    up, down = endpoints
    db, registry = setup(tmp_path)
    config = two_targets(tmp_path / "apprise.yml", up, down)
    missing = f"【逾期未公开】{WENZHOU}2020年度政府信息公开工作年度报告"

    first = check(db, registry, config, digest=digest)
    assert first.delivery.failed == 1 and first.undelivered
    got = up.take()
    assert missing in data(got) or any(missing in p["message"] for _, p in got)  # as itself, or in a digest

    second = check(db, registry, config, digest=digest)  # desk B still down: desk A is not sent it again
    assert second.undelivered and up.take() == []

    down.fail = False
    third = check(db, registry, config, digest=digest)
    assert not third.undelivered and up.take() == []
    got = down.take()
    assert got and all(path.startswith("/desk-b/") for path, _ in got)
    assert any(missing in p["title"] or missing in p["message"] for _, p in got)
    assert check(db, registry, config, digest=digest).delivery.messages == 0  # everyone has it now

    with Archive(db) as archive:
        alert = archive.alerts.get(f"deadline|{WENZHOU}|2020")
        rows = archive.conn.execute(
            "SELECT target_name, status, attempts, sent_state FROM alert_targets WHERE alert_id = ? ORDER BY attempts",
            (alert.id,),
        ).fetchall()
        assert [tuple(r) for r in rows] == [("JSON", "sent", 1, "missing"), ("JSON", "sent", 3, "missing")]
        log = archive.conn.execute("SELECT ok FROM alert_deliveries WHERE alert_id = ? ORDER BY id", (alert.id,))
        assert [r[0] for r in log] == [0, 0, 1]  # the per-alert log is kept as before
        stored = archive.conn.execute("SELECT group_concat(target) FROM alert_targets").fetchone()[0]
    assert b"token-a" not in db.read_bytes() and b"token-b" not in db.read_bytes()
    assert "token" not in stored  # a target is a hash of its URL, not the URL


def test_a_new_state_goes_to_every_target_again(tmp_path, endpoints):
    up, down = endpoints
    down.fail = False
    db, registry = setup(tmp_path)
    config = two_targets(tmp_path / "apprise.yml", up, down)
    check(db, registry, config)
    assert len(data(up.take())) == len(data(down.take())) == 1
    seed = next(p for p in seed_paths() if expected_for(p)["agency"] == WENZHOU)
    with Archive(db) as archive:  # the report turns up, late
        ingest(
            archive,
            IncomingDocument(
                seed.read_bytes(), url=LISTING + "a.html", agency=WENZHOU, year=2020, published_at="2021-02-05",
                published_source="visible", portal_id="wenzhou",
            ),
        )  # fmt: skip
    check(db, registry, config, today="2021-02-10")
    late = f"【已补发，逾期公开】{WENZHOU}2020年度政府信息公开工作年度报告"
    assert data(up.take()) == [late] and data(down.take()) == [late]


def test_a_world_readable_config_warns_once(tmp_path, endpoints):
    up, down = endpoints
    config = two_targets(tmp_path / "apprise.yml", up, down)
    said: list[str] = []
    Targets.load(config, warn=said.append)
    assert said == []  # 0600: quiet
    config.chmod(0o644)
    Targets.load(config, warn=said.append)
    assert len(said) == 1 and "readable by every user" in said[0] and "chmod 600" in said[0]
    assert "token-a" not in said[0] and "token-b" not in said[0]

    db, _ = setup(tmp_path)
    registry = tmp_path / "registry.yaml"
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "check", "--db", str(db), "--registry", str(registry)]
        + ["--notify", str(config), "--no-screenshots", "--today", "2021-02-01"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TELNETCONSOLE_ENABLED": "False"},
    )
    warnings = [line for line in out.stderr.splitlines() if "readable by every user" in line]
    assert len(warnings) == 1 and "token-a" not in out.stderr and "token-b" not in out.stderr


def test_a_version_5_archive_keeps_its_alerts_and_delivery_log(tmp_path):
    conn = connect(tmp_path / "old.db")
    migrate(conn, 5)
    conn.execute(
        "INSERT INTO alerts(fingerprint, kind, state, tags, first_seen, state_changed_at, delivery_status, sent_state) "
        "VALUES ('deadline|某局|2020', 'deadline', 'missing', '[\"data\"]', 't', 't', 'sent', 'missing')"
    )
    conn.execute("INSERT INTO alert_deliveries(alert_id, attempted_at, state, ok) VALUES (1, 't', 'missing', 1)")
    conn.close()
    with Archive(tmp_path / "old.db") as archive:
        alert = archive.alerts.get("deadline|某局|2020")
        assert (alert.state, alert.delivery_status, alert.sent_state) == ("missing", "sent", "missing")
        assert [tuple(r) for r in archive.conn.execute("SELECT alert_id, ok FROM alert_deliveries")] == [(1, 1)]
        assert archive.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        archive.alerts.upsert("deadline|某局|2019", kind="deadline", state="missing", suppress=True)
        assert archive.alerts.get("deadline|某局|2019").delivery_status == "suppressed"
