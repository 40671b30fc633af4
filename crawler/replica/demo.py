"""The offline demo: replica portals on 127.0.0.1, crawled into a fresh archive, then checked.

    from crawler.replica.demo import run_demo
    exit_code = run_demo("demo/xxgk.db")

1. start the replica server (the first run builds the PDF/DOC renditions with LibreOffice, then they are cached),
   with one more portal in its registry that never answers (a port held closed);
2. crawl every replica portal (`xxgk crawl`, in its own process: Scrapy's reactor runs once per process);
3. epoch 2: the government of 大渡口 corrects its 2023 report, 沈阳's 人防办 takes its 2019 report down; crawl
   again with --recheck (one new version, nothing else downloaded), and once more: a report is taken down only
   when two crawls that walked the whole listing no longer list it;
4. epoch 3: 大渡口 (declared by its home page) moves its 年报 column; crawl again: the old column answers 404, the
   crawl finds the new one from the home page, stores it and crawls it;
5. run the checks and the alerts in dry-run mode over the whole history (crawler.alerts.check_and_alert): the
   late, missing, inconsistent, edited and taken-down reports come out as Chinese alerts, the dead portal's
   agency as unverified, the moved column as one 「年报栏目地址已变更」;
6. print a summary, check it against what the world planted (crawler.replica.world.planted), and say how to
   browse the archive with `xxgk serve`. The exit code is 0 when the demo found exactly what it planted.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from crawler.replica import world
from crawler.replica.server import ReplicaServer

# Our own server: no need to wait between requests, nor long between retries of the portal that never answers.
# robots.txt is still obeyed (the replica serves one).
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "XXGK_PROGRESS_SECONDS": "5",
    "XXGK_RETRY_BACKOFF_BASE": "0.25",
}
MARKER = ".xxgk-demo"
CRAWL_FATAL = 2
STORY = (  # what world.planted() counts, as the summary names it
    ("late", "late (逾期公开)"),
    ("missing", "missing (逾期未公开)"),
    ("inconsistent", "inconsistent report (数据不一致)"),
    ("edited", "edited after publication (发布后修改)"),
    ("taken_down", "taken down (报告被撤下)"),
    ("unverified", "unverified agency (未能核实)"),
    ("column_moved", "column moved (年报栏目地址已变更)"),
)


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
    with ReplicaServer(down_portal=True) as replica:
        registry = replica.registry_path(db.parent)
        served = sum(1 for p in world.PORTALS if not p.down)
        echo(
            f"xxgk demo: {served} replica portals on {replica.base_url}, and one that never answers "
            f"({replica.down_url}); registry {registry}"
        )
        echo("\n== crawl 1: every portal, into a fresh archive ==")
        _crawl(db, registry, "first")
        echo(
            "\n== epoch 2: 大渡口's government corrects its 2023 report, 沈阳's 人防办 takes its 2019 report down;"
            " crawl 2 (--recheck) =="
        )
        replica.set_epoch(2)
        _crawl(db, registry, "second", "--recheck", "-q")
        echo("\n== crawl 3 (--recheck): a second crawl of the whole listing confirms the takedown ==")
        _crawl(db, registry, "third", "--recheck", "-q")
        echo("\n== epoch 3: 大渡口 moves its 年报 column (the old list answers 404); crawl 4 finds it again ==")
        replica.set_epoch(3)
        _crawl(db, registry, "fourth", "-q")
        outcome = _checks(db, registry, echo) if checks else None
    echo("")
    lines, ok = summary_lines(db, replica.site(1).expected, outcome)
    for line in lines:
        echo(line)
    echo(f"\nxxgk demo: done in {time.monotonic() - started:.0f}s. Browse the archive:")
    echo(f"  .venv/bin/xxgk serve --db {db}")
    echo(f"  XXGK_REGISTRY={registry} .venv/bin/xxgk check --db {db} --dry-run   # the checks again")
    return 0 if ok else 1


def _crawl(db: Path, registry: Path, which: str, *extra: str) -> int:
    """One `xxgk crawl`; exit 1 is expected (the portal that never answers makes every crawl partial)."""
    done = subprocess.run(crawl_command(db, registry, *extra))
    if done.returncode == CRAWL_FATAL:
        raise DemoError(f"the {which} crawl failed (exit 2); see above")
    return done.returncode


def _checks(db: Path, registry: Path, echo: Callable[[str], None]):
    from crawler.alerts import check_and_alert
    from crawler.registry import load_registry

    echo("\n== checks and alerts over the whole history (dry run: printed, not sent) ==")
    outcome = check_and_alert(
        db,
        load_registry(registry),
        date.today(),
        dry_run=True,
        screenshots=True,
        alert_since=world.YEARS[0],  # the demo's story spans every year: alert on all of it
        echo=echo,
        allow_networks=["127.0.0.1/32"],  # the proof of absence photographs the replica's own listing pages
    )
    for line in outcome.lines():
        echo(line)
    return outcome


def summary_lines(db: Path, expected, outcome) -> tuple[list[str], bool]:
    """The summary, and whether the demo found what it published and (with the checks) exactly what the world
    planted."""
    from storage import Archive

    with Archive(db) as archive:
        reports = archive.reports.list()
        versions = archive.reports.version_count()
        found = _found(archive, outcome) if outcome is not None else None
    parsed = sum(1 for r in reports if r.parse_status == "ok")
    urls = {r.source_url for r in reports}
    missed = [e for e in expected if not any(u.endswith(e.url) for u in urls)]
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
    if found is None:
        return lines, not missed
    counts = outcome.summary.deadline_counts()
    lines.append("deadlines: " + ", ".join(f"{k} {counts[k]}" for k in ("on_time", "late", "missing", "unverified")))
    story, as_planted = story_lines(world.planted(), found)
    return lines + story, as_planted and not missed


def _found(archive, outcome) -> dict[str, int]:
    """What the checks found, counted as the world plants it: alerts recorded (sent or not), reports with a
    failing check, agencies whose every verdict could not be verified."""
    alerts = archive.alerts
    return {
        "late": len(alerts.in_state("deadline", "late")),
        "missing": len(alerts.in_state("deadline", "missing")),
        "inconsistent": sum(1 for r in archive.reports.list() if r.failing_checks),
        "edited": len(alerts.in_state("data", "edited")),
        "taken_down": len(alerts.in_state("data", "taken_down")),
        "unverified": len({r.agency.name for r in outcome.summary.deadlines if r.decision.status == "unverified"}),
        "column_moved": len(alerts.in_state("health", "column_moved")),
    }


def story_lines(planted: dict[str, int], found: dict[str, int]) -> tuple[list[str], bool]:
    """One line per thing the demo plants: planted, found, and whether they agree."""
    lines = ["== the demo's story: planted in the replicas, found by xxgk =="]
    for key, label in STORY:
        verdict = "ok" if planted[key] == found[key] else "MISMATCH"
        lines.append(f"  {label:<38} planted {planted[key]}  found {found[key]}  {verdict}")
    as_planted = all(planted[k] == found[k] for k, _ in STORY)
    lines.append("as planted: yes" if as_planted else "as planted: NO (see MISMATCH above)")
    return lines, as_planted


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v or "?"] = out.get(v or "?", 0) + 1
    return out
