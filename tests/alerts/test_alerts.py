"""Alerts end to end: `xxgk check` → archive bookkeeping → apprise → a real HTTP endpoint on 127.0.0.1."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.alerting import WENZHOU, Recorder, record_crawl, write_config, write_registry
from support.shared import ROOT, expected_for, seed_paths

from crawler.alerts import Targets
from crawler.alerts import messages as msg
from storage import Archive


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def xxgk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=120)


def wenzhou_seed() -> Path:
    return next(p for p in seed_paths() if expected_for(p)["agency"] == WENZHOU)


def test_missing_once_then_now_published(tmp_path, recorder):
    db = tmp_path / "x.db"
    registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/index.html", verified=True)
    # the evidence of absence: the verified listing walked to its end after the deadline
    record_crawl(db, "wenzhou", ["http://127.0.0.1:9/nb/index.html"], started_at="2021-02-01T01:00:00Z")
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    check = ["check", "--db", str(db), "--registry", str(registry), "--notify", str(config), "--no-screenshots"]

    first = xxgk(*check, "--today", "2021-02-01")
    assert first.returncode == 0, first.stderr
    posts = recorder.take()
    # the crawl found no report at all on the portal: the health target hears that, the newsroom the verdict
    assert [p["title"] for path, p in posts if path == "/ops"] == ["【采集异常】门户未找到任何年度报告：温州市人民政府"]
    posts = [p for p in posts if p[0] != "/ops"]
    assert len(posts) == 1
    path, payload = posts[0]
    assert path.startswith("/newsroom/")  # routed by the `data` tag, not to the health target
    assert payload["title"] == f"【逾期未公开】{WENZHOU}2020年度政府信息公开工作年度报告"
    assert "2021-01-31" in payload["message"] and "已超过截止日期1天" in payload["message"]
    assert "http://127.0.0.1:9/nb/index.html" in payload["message"]
    assert payload["type"] == "warning"

    second = xxgk(*check, "--today", "2021-02-01")
    assert second.returncode == 0 and recorder.take() == []  # same state: not sent again

    imported = xxgk(
        "import", str(wenzhou_seed()), "--db", str(db), "--agency", WENZHOU, "--year", "2020",
        "--url", "http://127.0.0.1:9/nb/art_1.html", "--published-at", "2021-02-05",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    third = xxgk(*check, "--today", "2021-02-10")
    assert third.returncode == 0, third.stderr
    posts = recorder.take()
    assert [p for p in posts if p[0] == "/ops"] == []  # imported, not crawled: the portal still shows none
    posts = [p for p in posts if p[0] != "/ops"]
    assert len(posts) == 1
    payload = posts[0][1]
    assert payload["title"] == f"【已补发，逾期公开】{WENZHOU}2020年度政府信息公开工作年度报告"
    assert "2021-02-05" in payload["message"] and "逾期5天" in payload["message"]
    assert "/-/original/" in payload["message"] and "http://127.0.0.1:9/nb/art_1.html" in payload["message"]

    assert xxgk(*check, "--today", "2021-02-11").returncode == 0 and recorder.take() == []
    with Archive(db) as archive:
        status = archive.deadlines.get(WENZHOU, 2020)
        assert (status["status"], status["days_late"], status["published_at"]) == ("late", 5, "2021-02-05")
        assert json.loads(status["pages_checked"]) == ["http://127.0.0.1:9/nb/index.html"]
        deliveries = archive.conn.execute(
            "SELECT d.state, d.ok FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id "
            "WHERE a.kind = 'deadline' ORDER BY d.id"
        ).fetchall()
        assert [tuple(d) for d in deliveries] == [("missing", 1), ("late", 1)]
    # the token in the target URL is in the config file only
    assert b"s3cret-token" not in db.read_bytes()
    assert all("s3cret-token" not in p.stdout + p.stderr for p in (first, second, third))


def test_failed_delivery_is_recorded_and_retried(tmp_path, recorder):
    db = tmp_path / "x.db"
    registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/", verified=True)
    record_crawl(db, "wenzhou", ["http://127.0.0.1:9/nb/"], started_at="2021-02-01T01:00:00Z")
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    check = [
        "check",
        "--db",
        str(db),
        "--registry",
        str(registry),
        "--notify",
        str(config),
        "--no-screenshots",
        "--today",
        "2021-02-01",
    ]
    recorder.fail = True
    down = xxgk(*check)
    # the missing report, and (to the health target) a crawl that found no report on the portal
    assert down.returncode == 1 and "failed 2" in down.stdout
    with Archive(db) as archive:
        alerts = {a.kind: a for a in archive.alerts.pending()}
        assert sorted(alerts) == ["deadline", "health"]
        alert = alerts["deadline"]
        assert alert.delivery_status == "failed" and alert.attempts == 1 and "JSON" in alert.last_error
    recorder.fail = False
    again = xxgk(*check)
    assert again.returncode == 0
    posts = dict(recorder.take())
    assert len(posts) == 2 and "/ops" in posts
    (post,) = [p for path, p in posts.items() if path != "/ops"]
    assert "逾期未公开" in post["title"]
    with Archive(db) as archive:
        oks = [
            r[0]
            for r in archive.conn.execute("SELECT ok FROM alert_deliveries WHERE alert_id = ? ORDER BY id", (alert.id,))
        ]
        assert oks == [0, 1] and archive.alerts.pending() == []


def test_digest_dry_run_and_routing(tmp_path, recorder):
    db = tmp_path / "x.db"
    registry = write_registry(
        tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/", verified=True, 温州市人民政府="government"
    )
    record_crawl(db, "wenzhou", ["http://127.0.0.1:9/nb/"], started_at="2021-04-01T01:00:00Z")
    config = write_config(tmp_path / "apprise.yml", recorder.port)
    base = ["check", "--db", str(db), "--registry", str(registry), "--no-screenshots", "--today", "2021-04-02"]

    dry = xxgk(*base, "--notify", str(config), "--dry-run", "--digest")
    assert dry.returncode == 0 and recorder.take() == []
    assert "xxgk 监测摘要" in dry.stdout and dry.stdout.count("【逾期未公开】") == 2
    assert "none marked sent" in dry.stdout

    sent = xxgk(*base, "--notify", str(config), "--digest")
    assert sent.returncode == 0, sent.stderr
    posts = recorder.take()
    # the health target gets its own digest: the crawl found no report on the portal
    (ops,) = [p for path, p in posts if path == "/ops"]
    assert "1条提醒" in ops["title"] and "门户未找到任何年度报告" in ops["message"]
    (post,) = [p for p in posts if p[0] != "/ops"]  # two alerts, one message to the one data target
    assert post[0].startswith("/newsroom/") and "2条提醒" in post[1]["title"]
    assert "温州市人民政府2020年度" in post[1]["message"] and f"{WENZHOU}2020年度" in post[1]["message"]
    with Archive(db) as archive:
        digests = {r[0] for r in archive.conn.execute("SELECT digest FROM alert_deliveries")}
        assert len(digests) == 1 and None not in digests


def test_province_routing_with_a_text_config(tmp_path, recorder):
    """Text configs allow only ASCII tags: route by portal id there; YAML also takes 浙江省 etc."""
    db = tmp_path / "x.db"
    registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/", verified=True)
    record_crawl(db, "wenzhou", ["http://127.0.0.1:9/nb/"], started_at="2021-02-01T01:00:00Z")
    text_config = tmp_path / "apprise.txt"
    text_config.write_text(
        f"wenzhou=json://127.0.0.1:{recorder.port}/by-portal\nhealth=json://127.0.0.1:{recorder.port}/ops\n"
    )
    yaml_config = tmp_path / "apprise.yml"
    yaml_config.write_text(f"urls:\n  - json://127.0.0.1:{recorder.port}/by-province:\n      - tag: 浙江省\n")
    base = ["check", "--db", str(db), "--registry", str(registry), "--no-screenshots", "--today", "2021-02-01"]
    assert xxgk(*base, "--notify", str(text_config)).returncode == 0
    posts = recorder.take()
    assert [p for p, m in posts if m["title"].startswith("【逾期未公开】")] == ["/by-portal"]
    # the crawl found no report on the portal: a health alert, to the health target and the portal's subscriber
    assert sorted(p for p, m in posts if m["title"].startswith("【采集异常】")) == ["/by-portal", "/ops"]
    with Archive(db) as archive:  # re-arm the same alert to route it again
        archive.conn.execute("UPDATE alerts SET delivery_status = 'pending', sent_state = NULL")
    assert xxgk(*base, "--notify", str(yaml_config)).returncode == 0
    assert [p for p, _ in recorder.take()] == ["/by-province"]


def test_scraped_text_is_escaped():
    evil = "某局<script>alert(1)</script>**粗体** [链接](javascript:alert(1))\n# 标题"
    m = msg.inconsistent(evil, 2021, "表三勾稽关系", evil, "javascript:alert(1)", "http://x.test/a b(c)")
    assert "<script>" not in m.title + m.body and "&lt;script&gt;" in m.body
    assert "\\*\\*粗体\\*\\*" in m.body and "\\[链接\\]" in m.body
    assert "](javascript:" not in m.body.replace("\\]", "")  # the scraped "link" stays inert text
    assert "[来源网页]" not in m.body  # a javascript: source URL is not linked at all
    assert "[存档原件](http://x.test/a%20b%28c%29)" in m.body
    assert "\n#" not in m.body


def test_bad_config_is_a_clear_error(tmp_path):
    registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/")
    out = xxgk(
        "check", "--db", str(tmp_path / "x.db"), "--registry", str(registry), "--notify", str(tmp_path / "none.yml")
    )
    assert out.returncode == 2 and "apprise config not found" in out.stderr


def test_example_configs_load_and_route_as_documented():
    examples = ROOT / "examples"
    yml = Targets.load(examples / "apprise.yml")
    zhejiang_missing = ["data", "deadline", "missing", "浙江省", "温州市", WENZHOU, "wenzhou", "department"]
    assert [s.service_name for s in yml.matching(zhejiang_missing)] == ["E-Mail", "Telegram", "JSON"]
    assert len(yml.matching(["health", "unreachable", "wenzhou"])) == 1
    txt = Targets.load(examples / "apprise.txt")
    assert len(txt.services) == 4
    assert len(txt.matching(["health", "parse_failed", "jiaxing"])) == 2  # ops mail + the jiaxing subscriber
    assert txt.matching(["浙江省"]) == []  # text configs cannot hold Chinese tags
