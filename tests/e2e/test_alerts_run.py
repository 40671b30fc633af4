"""`xxgk run`, the cron job: one at a time per archive, exit codes a scheduler can act on."""

import subprocess
import sys

from support.alerting import Recorder, write_config, write_registry

from storage import check_lock


def xxgk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], capture_output=True, text=True, timeout=120)


def test_run_checks_and_notifies_and_a_second_run_waits_its_turn(tmp_path):
    recorder = Recorder()
    try:
        db = tmp_path / "x.db"
        registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/")
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        run = [
            "run",
            "--skip-crawl",
            "--db",
            str(db),
            "--registry",
            str(registry),
            "--notify",
            str(config),
            "--no-screenshots",
        ]

        with check_lock(db):  # what a run in progress holds
            busy = xxgk(*run, "--today", "2021-02-01")
            busy_check = xxgk("check", *run[2:], "--today", "2021-02-01")
        assert busy.returncode == 75 and "another xxgk run or check" in busy.stderr
        assert busy_check.returncode == 75
        assert recorder.take() == []  # nothing was sent by the runs that backed off

        done = xxgk(*run, "--today", "2021-02-01")
        assert done.returncode == 0, done.stderr
        assert [p["title"] for _, p in recorder.take()] == [
            "【逾期未公开】温州市人民防空办公室2020年度政府信息公开工作年度报告"
        ]
        assert xxgk(*run, "--today", "2021-02-01").returncode == 0 and recorder.take() == []

        recorder.fail = True
        assert xxgk(*run, "--today", "2022-02-01").returncode == 1  # the 2021 report is now missing too: undelivered
    finally:
        recorder.close()


def test_run_with_a_broken_registry_is_fatal(tmp_path):
    bad = tmp_path / "registry.yaml"
    bad.write_text("portals:\n  - {id: x, name: x, cms: nosuch, start_url: 'http://127.0.0.1:9/', domains: []}\n")
    out = xxgk("run", "--skip-crawl", "--db", str(tmp_path / "x.db"), "--registry", str(bad))
    assert out.returncode == 2 and "cms must be one of" in out.stderr
