"""Every bad input the attacker's test and the newsroom's first day found, through the real `xxgk` command:
one line on stderr, no traceback, the documented exit code (crawler/exits.py), and nothing created where a
command must not create anything (issue 11 §8, issue 10 §2 and §6).

Each case runs as its own subprocess, in a directory of its own, so "nothing was created" is a listing of it.
A read-only mount is a real one: a bind mount remounted read-only in a private mount namespace (`unshare`),
so nothing outside the test's subprocess sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.alerting import write_registry
from support.serving import free_port, serving
from support.shared import ROOT

from storage import Archive
from storage.db import sqlite3

FATAL, LOCKED = 2, 75
SEED_HTML = ROOT / "tests" / "files" / "generic_home.html"  # any file: the bad options are refused before it is read


def xxgk(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120, wrap=()):
    return subprocess.run(
        [*wrap, sys.executable, "-m", "crawler.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def assert_one_line(done: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The operator's view: one line on stderr that says what is wrong, the exit code cron and systemd act on."""
    err = done.stderr.strip()
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert len(err.splitlines()) == 1, err
    assert done.returncode == code, (done.returncode, err)
    for needle in needles:
        assert needle in err, err
    return err


# --- bad values, refused by argparse before anything runs ------------------------------------------------------

BAD_INPUT = {
    "allow-network not a CIDR": (["crawl", "--allow-network", "notacidr"], "not a network"),
    "allow-network not a CIDR (run)": (["run", "--allow-network", "10.0.0.0/33"], "not a network"),
    "a numeric setting that is not a number": (["crawl", "-s", "DOWNLOAD_DELAY=abc"], "DOWNLOAD_DELAY"),
    "a whole-number setting given a fraction": (["run", "-s", "XXGK_ARCHIVE_WORKERS=1.5"], "XXGK_ARCHIVE_WORKERS"),
    "a boolean setting given a word": (["crawl", "-s", "AUTOTHROTTLE_ENABLED=maybe"], "AUTOTHROTTLE_ENABLED"),
    "a setting without =": (["crawl", "-s", "DOWNLOAD_DELAY"], "KEY=VALUE"),
    "an unclosed IPv6 URL": (["crawl", "--url", "http://[::1", "--agency", "某县人民政府"], "--url"),
    "not a URL at all": (["crawl", "--url", "not a url", "--agency", "某县人民政府"], "--url"),
    "a year that overflows SQLite": (["import", "--year", "99999999999999999999", str(SEED_HTML)], "--year"),
    "a publication date that is no date": (["import", "--published-at", "2021-13-45", str(SEED_HTML)], "2021-13-45"),
    "a negative run count": (["check", "--unreachable-runs", "-1"], "--unreachable-runs"),
    "a zero run count (run)": (["run", "--unreachable-runs", "0"], "--unreachable-runs"),
    "a today that is no date": (["check", "--today", "2021-02-30"], "--today"),
    "an alert-since that is no report year": (["run", "--alert-since", "19"], "--alert-since"),
    "a replica port out of range": (["replica", "--port", "99999"], "--port"),
    "a replica on every address": (["replica", "--host", "0.0.0.0"], "--host"),
    "an unknown option": (["check", "--no-such-option"], "unrecognized arguments"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, tmp_path):
    args, needle = BAD_INPUT[case]
    done = xxgk(*args, "--db", str(tmp_path / "x.db"), cwd=tmp_path) if args[0] != "replica" else xxgk(*args)
    assert_one_line(done, FATAL, needle)
    assert list(tmp_path.iterdir()) == []  # refused at the door: no archive, no lock, no directory


def test_serve_refuses_a_port_out_of_range_at_input(tmp_path):
    db = tmp_path / "x.db"
    Archive(db).close()
    assert_one_line(xxgk("serve", "--db", str(db), "--port", "99999"), FATAL, "--port")


def test_serve_never_starts_on_a_port_out_of_range(tmp_path):
    """Until serve.py validates the port itself: no traceback, exit 2, and the port's problem named."""
    db = tmp_path / "x.db"
    Archive(db).close()
    done = xxgk("serve", "--db", str(db), "--port", "99999", timeout=60)
    assert done.returncode == FATAL and "Traceback" not in done.stderr, done.stderr
    assert "99999" in done.stderr.strip().splitlines()[-1]


# --- check and run never create an archive ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check"], ["run"], ["run", "--skip-crawl"]])
def test_check_and_run_refuse_a_missing_archive_and_create_nothing(command, tmp_path):
    registry = write_registry(tmp_path / "registry.yaml", "http://127.0.0.1:9/nb/")
    before = sorted(tmp_path.iterdir())
    for db in (tmp_path / "mistyped.db", tmp_path / "no" / "such" / "dir" / "x.db"):
        done = xxgk(*command, "--db", str(db), "--registry", str(registry), "--no-screenshots", cwd=tmp_path)
        assert_one_line(done, FATAL, "no archive at", str(db))
        assert sorted(tmp_path.iterdir()) == before  # no database, no lock file, no directory
    env_db = tmp_path / "from-env.db"
    done = xxgk(*command, "--registry", str(registry), cwd=tmp_path, env={"XXGK_DB": str(env_db)})
    assert_one_line(done, FATAL, "no archive at", str(env_db))
    assert sorted(tmp_path.iterdir()) == before


def test_crawl_and_import_still_create_an_archive(tmp_path):
    """Only these two make one. Nothing is fetched here: the portal is on loopback, which the crawl refuses."""
    imported = tmp_path / "imported" / "x.db"
    done = xxgk("import", str(SEED_HTML), "--db", str(imported), "--agency", "某县人民政府", "--year", "2023")
    assert imported.is_file(), done.stderr
    crawled = tmp_path / "crawled" / "x.db"
    registry = _registry(tmp_path / "registry.yaml", 1)
    done = xxgk("crawl", "--db", str(crawled), "--registry", str(registry), "-q")
    assert done.returncode == 1 and crawled.is_file(), done.stdout + done.stderr


# --- archives that cannot be used: check, run and serve ----------------------------------------------------------


def _archive(path: Path, agencies: int = 200) -> Path:
    """A real archive, checked once, with enough registry agencies that their table spans many pages."""
    registry = _registry(path.parent / "registry.yaml", agencies)
    Archive(path).close()
    done = xxgk("check", "--db", str(path), "--registry", str(registry), "--no-screenshots", "--today", "2025-06-01")
    assert done.returncode == 0, done.stderr
    with Archive(path) as archive:
        archive.checkpoint()  # everything in the main file: the damage below is what SQLite will read
    return path


def _registry(path: Path, agencies: int) -> Path:
    lines = ["portals:", "  - id: nb", "    name: 宁波市人民政府", "    cms: generic"]
    lines += ["    start_url: http://127.0.0.1:9/nb/", "    domains: [127.0.0.1]", "    agencies:"]
    lines += [
        f"      - {{name: 宁波市第{i}局, kind: department, province: 浙江省, city: 宁波市, level: city}}"
        for i in range(agencies)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _page_size_and_root(db: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(str(db))
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        return size, root
    finally:
        conn.close()


def _overwrite(db: Path, offset: int, length: int) -> None:
    with db.open("r+b") as f:
        f.seek(offset)
        f.write(b"\x5a" * length)


@pytest.fixture(scope="module")
def good_archive(tmp_path_factory) -> Path:
    return _archive(tmp_path_factory.mktemp("good") / "xxgk.db")


def _broken(kind: str, good: Path, where: Path) -> Path:
    db = where / "xxgk.db"
    if kind == "a directory":
        db.mkdir()
        return db
    if kind == "a corrupt header":
        db.write_bytes(b"this is not an SQLite file at all\n" * 200)
        return db
    shutil.copy(good, db)
    size, root = _page_size_and_root(db, "agencies")
    if kind == "a damaged schema page":
        _overwrite(db, 100, size - 100)  # page 1 after the file header: sqlite_master
    elif kind == "a damaged table page":
        _overwrite(db, (root - 1) * size, size)  # the agencies table: read by the checks, not by the schema
    return db


ARCHIVE_PROBLEMS = ["a corrupt header", "a directory", "a damaged schema page", "a damaged table page"]


# A run that crawls meets a damaged table page in the crawl first: test_run_on_a_damaged_table_page.
UNUSABLE = [(c, k) for c in ("check", "run --skip-crawl", "run") for k in ARCHIVE_PROBLEMS]
UNUSABLE.remove(("run", "a damaged table page"))


@pytest.mark.parametrize("command, kind", UNUSABLE, ids=[f"{c}: {k}" for c, k in UNUSABLE])
def test_check_and_run_on_an_unusable_archive(command, kind, good_archive, tmp_path):
    command = command.split()
    db = _broken(kind, good_archive, tmp_path)
    registry = _registry(tmp_path / "registry.yaml", 3)
    quiet = ["-q"] if command[0] == "run" else []
    done = xxgk(*command, "--db", str(db), "--registry", str(registry), "--no-screenshots", *quiet)
    assert_one_line(done, FATAL, str(db))


def test_run_on_a_damaged_table_page(good_archive, tmp_path):
    """The schema reads, so the run crawls; the damage is met there and again by the check: each says so in its
    own line, and the run is fatal because the checks could not run."""
    db = _broken("a damaged table page", good_archive, tmp_path)
    registry = _registry(tmp_path / "registry.yaml", 3)
    done = xxgk("run", "--db", str(db), "--registry", str(registry), "--no-screenshots", "-q")
    assert done.returncode == FATAL and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("xxgk run: cannot use the archive"), done.stderr


@pytest.mark.parametrize("kind", ["a corrupt header", "a directory", "a damaged schema page"])
def test_serve_on_an_unusable_archive(kind, good_archive, tmp_path):
    db = _broken(kind, good_archive, tmp_path)
    assert_one_line(xxgk("serve", "--db", str(db), "--port", str(free_port()), timeout=60), FATAL)


def test_a_crash_of_the_crawl_is_one_line(tmp_path):
    """Anything a command did not expect: the last-resort handler's one line, the traceback only on request."""
    db = tmp_path / "x.db"
    registry = _registry(tmp_path / "registry.yaml", 1)
    args = ["crawl", "--db", str(db), "--registry", str(registry), "-q", "-s", "SPIDER_LOADER_CLASS=nosuch.Loader"]
    assert_one_line(xxgk(*args), FATAL, "xxgk crawl: unexpected ModuleNotFoundError", "nosuch")
    debug = xxgk(*args, env={"XXGK_DEBUG": "1"})
    assert debug.returncode == FATAL and "Traceback" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("xxgk crawl: unexpected ModuleNotFoundError")


# --- a read-only mount ------------------------------------------------------------------------------------------


def _read_only(directory: Path) -> tuple[str, ...]:
    """A command prefix that runs its command with `directory` mounted read-only, in a mount namespace of its own."""
    if not shutil.which("unshare"):
        pytest.skip("unshare(1) is not installed")
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", script + " true", str(directory)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private read-only mount here: {probe.stderr.decode()[-200:]}")
    return ("unshare", "-rm", "sh", "-c", script, str(directory))


@pytest.fixture
def read_only_archive(good_archive, tmp_path) -> tuple[Path, tuple[str, ...]]:
    folder = tmp_path / "mnt"
    folder.mkdir()
    db = folder / "xxgk.db"
    shutil.copy(good_archive, db)
    return db, _read_only(folder)


@pytest.mark.parametrize(
    "command", [["check"], ["run"], ["run", "--skip-crawl"], ["crawl"], ["import", str(SEED_HTML)]]
)
def test_a_read_only_mount(command, read_only_archive, tmp_path):
    db, wrap = read_only_archive
    registry = _registry(tmp_path / "registry.yaml", 3)
    extra = ["--registry", str(registry)] if command[0] != "import" else []
    extra += ["--no-screenshots"] if command[0] in ("check", "run") else []
    done = xxgk(*command, "--db", str(db), *extra, *(["-q"] if command[0] in ("crawl", "run") else []), wrap=wrap)
    err = assert_one_line(done, FATAL, str(db))
    assert "Read-only file system" in err or "unable to open" in err, err


def test_serve_on_a_read_only_mount_is_one_line(read_only_archive):
    """A file on a read-only mount that is no archive: refused in one line before Datasette starts."""
    db, wrap = read_only_archive
    db.write_bytes(b"this is not an SQLite database" * 100)
    assert_one_line(xxgk("serve", "--db", str(db), "--port", str(free_port()), wrap=wrap, timeout=60), FATAL)


def test_serve_serves_a_read_only_mount(read_only_archive, tmp_path):
    db, wrap = read_only_archive
    argv = [*wrap, sys.executable, "-m", "crawler.cli", "serve", "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with serving(db, tmp_path / "serve.log", argv=argv, ready="/xxgk", timeout=30, env=env):
        pass  # /xxgk answered 200 from the read-only mount
