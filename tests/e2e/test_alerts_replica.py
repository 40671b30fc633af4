"""`xxgk run` end to end over real HTTP: replica portals → crawl → archive → checks → apprise → webhook."""

import subprocess
import sys

import pytest
import yaml
from support.alerting import Recorder, write_config

from crawler.replica import ReplicaServer

PORTALS = ("demo-shenyang", "demo-wenzhou")
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


@pytest.fixture
def replica(tmp_path):
    with ReplicaServer() as server:
        full = yaml.safe_load(server.registry_path(tmp_path).read_text(encoding="utf-8"))
        full["portals"] = [p for p in full["portals"] if p["id"] in PORTALS]
        path = tmp_path / "registry.yaml"
        path.write_text(yaml.safe_dump(full, allow_unicode=True), encoding="utf-8")
        yield path


def test_run_crawls_checks_and_alerts_late_and_inconsistent_reports_once(tmp_path, replica):
    recorder = Recorder()
    try:
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        cmd = [
            sys.executable,
            "-m",
            "crawler.cli",
            "run",
            *PORTALS,
            "--db",
            str(tmp_path / "x.db"),
            "--registry",
            str(replica),
        ]
        cmd += [
            "--notify",
            str(config),
            "--today",
            "2024-04-10",
            "--allow-network",
            "127.0.0.1/32",
            "-q",
            "--no-screenshots",
        ]
        cmd += ["--public-url", "http://archive.test", *FAST]
        first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        posts = recorder.take()
        assert {path.split("/")[1] for path, _ in posts} == {"newsroom"}  # no health alert: every portal answered
        titles = [p["title"] for _, p in posts]
        late = [p for path, p in posts if p["title"].startswith("【逾期公开】")]
        assert [p["title"] for p in late] == ["【逾期公开】温州市人民防空办公室2022年度政府信息公开工作年度报告"]
        assert "2023-02-20" in late[0]["message"] and "逾期20天" in late[0]["message"]
        assert "http://archive.test/-/original/" in late[0]["message"]
        assert any(t.startswith("【数据不一致】沈阳市人民政府2022年度报告") for t in titles)
        assert not [t for t in titles if "逾期未公开" in t]  # every due report of these portals was found
        assert "deadlines on_time" in first.stdout and "late 1, missing 0" in first.stdout

        again = subprocess.run([*cmd, "--skip-crawl"], capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
        assert recorder.take() == []  # same states: nothing is sent twice
    finally:
        recorder.close()
