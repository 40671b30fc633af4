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
        cmd += ["--public-url", "http://archive.test", "--alert-since", "2019", *FAST]  # the replicas' whole history
        _crawl(tmp_path / "x.db", replica, portals=PORTALS)  # `run` needs an archive: an operator crawls once first
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


# --- silent edits and takedowns, over real HTTP ---------------------------------------------------------------
EDIT_PORTALS = ("demo-shenyang", "demo-dadukou")


def _crawl(db, registry, *extra: str, portals: tuple[str, ...] = EDIT_PORTALS) -> None:
    cmd = [sys.executable, "-m", "crawler.cli", "crawl", *portals, "--db", str(db), "--registry", str(registry)]
    done = subprocess.run(
        [*cmd, "--allow-network", "127.0.0.1/32", "-q", *FAST, *extra], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _check(db, registry, config) -> None:
    cmd = [sys.executable, "-m", "crawler.cli", "check", "--db", str(db), "--registry", str(registry)]
    cmd += ["--notify", str(config), "--today", "2024-06-10", "--no-screenshots", "--public-url", "http://archive.test"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _titled(posts, head: str) -> list[dict]:
    return [p for _, p in posts if p["title"].startswith(head)]


@pytest.mark.slow
def test_recrawls_alert_the_corrected_report_once_and_the_taken_down_one_after_two_whole_walks(tmp_path):
    """Epoch 1 crawled; epoch 2 (大渡口 corrects its 2023 report, 沈阳's 人防办 takes its 2019 report down and its
    page answers 404) crawled twice with --recheck, checking after each crawl as `xxgk run` would."""
    recorder = Recorder()
    db = tmp_path / "x.db"
    try:
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        with ReplicaServer() as server:
            registry = server.registry_path(tmp_path)
            _crawl(db, registry)
            _check(db, registry, config)
            first = recorder.take()
            assert not _titled(first, "【发布后修改】") and not _titled(first, "【报告被撤下】")

            server.set_epoch(2)
            gone = next(p for p in server.published if p.case == "taken_down")
            gone_page = next(e.page for e in server.site(1).expected if (e.agency, e.year) == (gone.agency.name, 2019))
            assert server.site().routes.get(gone_page) is None  # epoch 2 answers 404 for it
            _crawl(db, registry, "--recheck")
            _check(db, registry, config)
            second = recorder.take()
            (edit,) = _titled(second, "【发布后修改】")
            assert edit["title"] == "【发布后修改】重庆市大渡口区人民政府2023年度政府信息公开工作年度报告"
            assert "- （一）予以公开/总计：24 → 14" in edit["message"]
            assert "- （一）予以公开/自然人：20 → 10" in edit["message"]
            assert "六、其他需要报告的事项：新增“（更正说明：2024年5月6日更正表三“予以公开”数据。）”" in edit["message"]
            assert edit["message"].count("http://archive.test/-/original/") == 2  # before and after
            assert not _titled(second, "【报告被撤下】")  # one crawl without it is not enough

            _crawl(db, registry, "--recheck")
            _check(db, registry, config)
            third = recorder.take()
            (down,) = _titled(third, "【报告被撤下】")
            assert down["title"] == "【报告被撤下】沈阳市人民防空办公室2019年度政府信息公开工作年度报告"
            assert "连续2次" in down["message"] and "http://archive.test/-/original/" in down["message"]
            assert server.base_url + gone_page in down["message"]
            assert not _titled(third, "【发布后修改】")  # told once

            _check(db, registry, config)
            assert recorder.take() == []  # nothing is said twice
    finally:
        recorder.close()


@pytest.mark.slow
@pytest.mark.browser
def test_the_demo_finds_exactly_what_it_plants(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "demo", "--db", str(tmp_path / "demo" / "xxgk.db")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout
    assert done.returncode == 0, out[-4000:] + done.stderr[-3000:]
    story = out[out.index("== the demo's story") :]
    for label in ("late", "missing", "inconsistent report", "edited after publication", "taken down", "column moved"):
        line = next(x for x in story.splitlines() if x.strip().startswith(label))
        assert "planted 1  found 1  ok" in line, line
    unverified = next(x for x in story.splitlines() if x.strip().startswith("unverified agency"))
    assert "planted 1  found 1  ok" in unverified, unverified
    assert "as planted: yes" in story
    assert "【发布后修改】重庆市大渡口区人民政府2023年度" in out and "【报告被撤下】沈阳市人民防空办公室2019年度" in out
    assert "【年报栏目地址已变更】重庆市大渡口区" in out  # its column moved in epoch 3, found again from the home page
    assert "桐溪县人民政府" in out  # the portal that never answers: its agency is unverified, with a health alert
    assert "【逾期未公开】桐溪县" not in out
