"""The offline demo: replica portals on 127.0.0.1, crawled into a fresh archive, then checked.

    from crawler.replica.demo import run_demo
    exit_code = run_demo("demo/xxgk.db")

1. start the replica server (the first run builds the PDF/DOC renditions with LibreOffice, then they are cached);
2. crawl every replica portal (`xxgk crawl`, in its own process: Scrapy's reactor runs once per process);
3. the government of 大渡口 corrects its 2023 report (the server's second epoch); crawl again with --recheck:
   one new version, nothing else downloaded;
4. run the checks and the alerts in dry-run mode (crawler.alerts.check_and_alert, when present): the late,
   missing and inconsistent reports come out as Chinese alerts;
5. print a summary and how to browse the archive with `xxgk serve`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from crawler.replica.server import ReplicaServer

# Our own server: no need to wait between requests. robots.txt is still obeyed (the replica serves one).
DEMO_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "XXGK_PROGRESS_SECONDS": "5"}
MARKER = ".xxgk-demo"


class DemoError(RuntimeError):
    pass


def fresh_archive(db: Path) -> None:
    """Remove an earlier demo archive (only one this command made: a marker file sits beside it)."""
    marker = db.with_name(db.name + MARKER)
    siblings = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock"), Path(f"{db}.check")]
    store = db.with_name(f"{db.stem}-documents")
    if db.exists() and not marker.exists():
        raise DemoError(f"{db} exists and was not made by `xxgk demo`: give another --db")
    for path in siblings:
        path.unlink(missing_ok=True)
    shutil.rmtree(store, ignore_errors=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("made by xxgk demo; the archive beside this file is replaced on the next demo\n")


def crawl_command(db: Path, registry: Path, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--db", str(db), "--registry", str(registry)]
    cmd += ["--allow-network", "127.0.0.1/32", *extra]
    for key, value in DEMO_SETTINGS.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def run_demo(db: str | Path = "demo/xxgk.db", *, checks: bool = True, echo: Callable[[str], None] = print) -> int:
    db = Path(db)
    started = time.monotonic()
    fresh_archive(db)
    echo("xxgk demo: building the replica portals (the first run converts PDFs and DOCs with LibreOffice, ~1 min)")
    with ReplicaServer() as replica:
        registry = replica.registry_path(db.parent)
        echo(f"xxgk demo: 6 replica portals on {replica.base_url}, registry {registry}")
        echo("\n== crawl 1: every portal, into a fresh archive ==")
        first = subprocess.run(crawl_command(db, registry))
        if first.returncode == 2:
            raise DemoError("the first crawl failed (exit 2); see above")
        echo("\n== 大渡口's government corrects its 2023 report after publication; crawl 2 (--recheck) ==")
        replica.set_epoch(2)
        second = subprocess.run(crawl_command(db, registry, "--recheck", "-q"))
        outcome = None
        if checks:
            outcome = _checks(db, registry, echo)
    echo("")
    for line in summary_lines(db, replica.expected(), outcome):
        echo(line)
    echo(f"\nxxgk demo: done in {time.monotonic() - started:.0f}s. Browse the archive:")
    echo(f"  .venv/bin/xxgk serve --db {db}")
    echo(f"  XXGK_REGISTRY={registry} .venv/bin/xxgk check --db {db} --dry-run   # the checks again")
    return max(first.returncode, second.returncode)


def _checks(db: Path, registry: Path, echo: Callable[[str], None]):
    try:
        from crawler.alerts import check_and_alert
    except ImportError:
        echo("\n(checks not installed: crawler.alerts is missing; skipping `xxgk check`)")
        return None
    from crawler.registry import load_registry

    echo("\n== checks and alerts (dry run: printed, not sent) ==")
    outcome = check_and_alert(db, load_registry(registry), date.today(), dry_run=True, screenshots=True, echo=echo)
    for line in outcome.lines():
        echo(line)
    return outcome


def summary_lines(db: Path, expected, outcome) -> list[str]:
    from storage import Archive

    with Archive(db) as archive:
        reports = archive.reports.list()
        versions = archive.reports.version_count()
    parsed = sum(1 for r in reports if r.parse_status == "ok")
    found = {r.source_url for r in reports}
    missed = [e for e in expected if not any(u.endswith(e.url) for u in found)]
    formats: dict[str, int] = {}
    for r in reports:
        formats[r.format or "?"] = formats.get(r.format or "?", 0) + 1
    lines = [
        "== summary ==",
        f"reports archived: {len(reports)} of {len(expected)} published by the replicas ({parsed} parsed); "
        f"{versions - len(reports)} edited after publication (new version)",
        "formats: " + ", ".join(f"{k} {v}" for k, v in sorted(formats.items())),
        "published dates from: "
        + ", ".join(f"{k} {v}" for k, v in sorted(_count(r.published_source for r in reports).items())),
    ]
    if missed:
        lines.append("NOT FOUND: " + ", ".join(f"{e.agency} {e.year}" for e in missed))
    if outcome is not None:
        counts = outcome.summary.deadline_counts()
        lines.append("deadlines: " + ", ".join(f"{k} {counts[k]}" for k in ("on_time", "late", "missing", "pending")))
        lines.append(f"reports with failing checks: {sum(1 for r in _reread(db) if r.failing_checks)}")
    return lines


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v or "?"] = out.get(v or "?", 0) + 1
    return out


def _reread(db: Path):
    from storage import Archive

    with Archive(db) as archive:
        return archive.reports.list()
