"""`xxgk run`, the cron job: one at a time per archive, exit codes a scheduler can act on, and a run that always
finishes its job (the checks and notifications run whatever happened to the crawl)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.alerting import WENZHOU, Recorder, write_config

from storage import Archive, check_lock, crawl_lock

LISTING = "http://127.0.0.1:9/nb/"


def xxgk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write_registry(path: Path) -> Path:
    """One portal whose listing is known to be the agency's (`verified: true`), so a crawl of it that walked
    the listing to its end is evidence enough for a verdict of absence."""
    path.write_text(
        "portals:\n  - id: wenzhou\n    name: 温州市人民政府\n    cms: hanweb\n"
        f"    start_url: {LISTING}\n    domains: [127.0.0.1]\n    verified: true\n    agencies:\n"
        f"      - {{name: {WENZHOU}, kind: department, province: 浙江省, city: 温州市, level: city, first_year: 2020}}\n",
        encoding="utf-8",
    )
    return path


def archive_with_a_crawl(db: Path, started_at: str) -> Path:
    """The archive a crawl at `started_at` (UTC) left: the listing walked to its end, no report on it."""
    with Archive(db) as archive:
        run = archive.runs.start("test", now=started_at)
        archive.runs.record_portal(
            run, "wenzhou", "ok", pages=1, listing_complete=True, listing_pages=[LISTING], now=started_at
        )
        archive.runs.finish(run, "ok", now=started_at)
    return db


def data_titles(posts: list) -> list[str]:
    return [p["title"] for path, p in posts if path.startswith("/newsroom/")]


def test_run_checks_and_notifies_and_a_second_run_waits_its_turn(tmp_path):
    recorder = Recorder()
    try:
        db = archive_with_a_crawl(tmp_path / "x.db", "2021-02-01T01:00:00Z")
        registry = write_registry(tmp_path / "registry.yaml")
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        run = ["run", "--skip-crawl", "--db", str(db), "--registry", str(registry), "--notify", str(config)]
        run += ["--no-screenshots"]

        with check_lock(db):  # what a run in progress holds
            busy = xxgk(*run, "--today", "2021-02-01")
            busy_check = xxgk("check", *run[2:], "--today", "2021-02-01")
        assert busy.returncode == 75 and "another xxgk run or check" in busy.stderr
        assert busy_check.returncode == 75
        assert recorder.take() == []  # nothing was sent by the runs that backed off

        done = xxgk(*run, "--today", "2021-02-01")
        assert done.returncode == 0, done.stderr
        assert data_titles(recorder.take()) == [f"【逾期未公开】{WENZHOU}2020年度政府信息公开工作年度报告"]
        assert xxgk(*run, "--today", "2021-02-01").returncode == 0 and recorder.take() == []

        recorder.fail = True
        archive_with_a_crawl(db, "2022-02-01T01:00:00Z")
        assert xxgk(*run, "--today", "2022-02-01").returncode == 1  # the 2021 report is now missing too: undelivered
    finally:
        recorder.close()


def test_run_with_a_broken_registry_is_fatal(tmp_path):
    bad = tmp_path / "registry.yaml"
    bad.write_text("portals:\n  - {id: x, name: x, cms: nosuch, start_url: 'http://127.0.0.1:9/', domains: []}\n")
    db = tmp_path / "x.db"
    Archive(db).close()  # only crawl and import create an archive; run and check refuse a missing one
    out = xxgk("run", "--skip-crawl", "--db", str(db), "--registry", str(bad))
    assert out.returncode == 2 and "cms" in out.stderr and "Traceback" not in out.stderr


def test_run_refuses_a_portal_name_the_registry_does_not_declare(tmp_path):
    """A typo in the cron line is bad input (2, one line), not a crawl failure to record run after run."""
    db = tmp_path / "x.db"
    Archive(db).close()
    out = xxgk("run", "wenzhuo", "--db", str(db), "--registry", str(write_registry(tmp_path / "registry.yaml")))
    err = out.stderr.strip()
    assert out.returncode == 2 and len(err.splitlines()) == 1 and "not in the registry: wenzhuo" in err, err


def test_run_exits_75_while_a_crawl_holds_the_crawl_lock(tmp_path):
    """A `xxgk crawl` started by hand is busy, not broken: the run backs off (75, one line) and checks nothing,
    so cron and systemd try again next time instead of reporting a failure."""
    db = tmp_path / "x.db"
    Archive(db).close()
    registry = write_registry(tmp_path / "registry.yaml")
    with crawl_lock(db):
        busy = xxgk("run", "--db", str(db), "--registry", str(registry), "--no-screenshots", "-q")
    err = busy.stderr.strip()
    assert busy.returncode == 75, busy.stdout + busy.stderr
    assert len(err.splitlines()) == 1 and "another xxgk crawl is running" in err and "Traceback" not in err, err
    assert busy.stdout == ""  # backed off before crawling or checking
    with Archive(db) as archive:
        assert archive.runs.history("wenzhou") == []


CRAWL_CRASHES = {
    # A setting Scrapy cannot use: the crawl dies while starting its crawlers (after it opened its run).
    "an unloadable spider loader": ({}, ["-s", "SPIDER_LOADER_CLASS=nosuch.Loader"], "ModuleNotFoundError"),
    # An environment value xxgk's Scrapy settings cannot parse: the crawl dies before it opens a run.
    "an unparseable XXGK_RECHECK_DAYS": ({"XXGK_RECHECK_DAYS": "soon"}, [], "ValueError"),
}


@pytest.mark.parametrize("case", CRAWL_CRASHES, ids=list(CRAWL_CRASHES))
def test_a_crawl_that_dies_is_recorded_and_the_run_still_checks_and_notifies(case, tmp_path):
    """The crawl of the registry's only portal fails fatally: the failure is recorded for that portal, the checks
    and the notifications run over what the archive holds, and the run exits 1 (partial), not 2."""
    env, extra, error = CRAWL_CRASHES[case]
    recorder = Recorder()
    try:
        db = tmp_path / "x.db"
        Archive(db).close()
        config = write_config(tmp_path / "apprise.yml", recorder.port)
        config.chmod(0o600)  # its URLs hold tokens (a world-readable config gets a warning line)
        args = ["run", "--db", str(db), "--registry", str(write_registry(tmp_path / "registry.yaml"))]
        args += ["--notify", str(config), "--no-screenshots", "--today", "2021-02-01", "-q", *extra]
        done = xxgk(*args, env=env)
        posts = recorder.take()
    finally:
        recorder.close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr  # the crash, in one line
    assert f"xxgk run: the crawl crashed: {error}" in done.stderr
    assert "xxgk check (2021-02-01)" in done.stdout and "failed 0" in done.stdout, done.stdout
    assert posts, "the checks ran but nobody was told anything"
    with Archive(db) as archive:
        (last,) = archive.runs.history("wenzhou", limit=1)
    assert last["status"] == "error" and error in last["error"]


def test_alert_since_pushes_the_older_years_too(tmp_path):
    """Five report years missing on a first check: only the current cycle's is pushed, unless --alert-since."""
    registry = write_registry(tmp_path / "registry.yaml")
    counts = {}
    for since in (None, "2020"):
        db = archive_with_a_crawl(tmp_path / f"since-{since}.db", "2025-05-01T01:00:00Z")
        args = ["check", "--db", str(db), "--registry", str(registry), "--no-screenshots", "--dry-run"]
        done = xxgk(*args, "--today", "2025-06-01", *(["--alert-since", since] if since else []))
        assert done.returncode == 0, done.stderr
        counts[since] = done.stdout.count("【逾期未公开】")
    assert counts == {None: 1, "2020": 5}
