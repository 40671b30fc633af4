"""`xxgk run [NAME...] [--today D] [--notify CONFIG] [--digest] …`: the cron job — crawl, check, notify.

A run always finishes its job: whatever happens to the crawl (a portal down, a fatal crawl, a crash of the
crawl itself), the failure is recorded for each portal and the checks and notifications still run over what
the archive holds, so a hostile or broken portal never silences the alerts.

The archive must exist (create it once with `xxgk crawl` or `xxgk import`): a mistyped $XXGK_DB never becomes
a fresh archive whose every agency is "missing". One run at a time per archive (a lock beside the database).

Exit codes: 0 everything done; 1 partial (the crawl failed in part or in whole, or some alerts could not be
delivered: recorded, retried next run); 2 fatal (no archive, bad input, the archive or the registry or the
apprise config is unusable: the checks could not run); 75 another run, check or crawl holds a lock (try later).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.commands._options import add_archive_options, add_check_options, add_crawl_options, apply_ocr_option
from crawler.commands.check import archive_path, check_and_notify, refuse_unusable, unusable
from crawler.exits import EXIT_FATAL, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL

COMMAND = "xxgk run"


def run(args: argparse.Namespace) -> int:
    from storage import LockHeld, check_lock

    refused = refuse_unusable(args, COMMAND) or _refuse_unknown_portals(args)
    if refused is not None:
        return refused
    db = archive_path(args)
    lock = check_lock(db)
    try:
        with lock:
            problem = unusable(db)
            if problem:
                print(f"{COMMAND}: cannot use the archive {db}: {problem}", file=sys.stderr)
                return EXIT_FATAL
            crawled = EXIT_OK if args.skip_crawl else crawl_step(args, db)
            if crawled == EXIT_LOCKED:
                return EXIT_LOCKED
            checked = check_and_notify(args, command=COMMAND)
    except LockHeld:
        print(f"{COMMAND}: another xxgk run or check is working on this archive; this run exits", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as e:  # the lock file cannot be made: a read-only mount, a directory we may not write
        print(f"{COMMAND}: cannot take the lock {lock.path}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FATAL
    if checked == EXIT_FATAL:
        return EXIT_FATAL
    return EXIT_PARTIAL if EXIT_PARTIAL in (crawled, checked) else EXIT_OK


def _refuse_unknown_portals(args: argparse.Namespace) -> int | None:
    """A portal name the registry does not declare is a typo in the cron line: refused at once (exit 2), not
    a crawl failure to record. A registry that does not load is left to the check, which says why."""
    from crawler.registry import RegistryError, load_registry

    if not args.portals or args.skip_crawl:
        return None
    try:
        known = {p.id for p in load_registry(args.registry).portals}
    except RegistryError:
        return None
    unknown = [p for p in args.portals if p not in known]
    if not unknown:
        return None
    print(f"{COMMAND}: not in the registry: {', '.join(unknown)} (known: {', '.join(sorted(known))})", file=sys.stderr)
    return EXIT_FATAL


def crawl_step(args: argparse.Namespace, db: Path) -> int:
    """Crawl, print the summary; EXIT_LOCKED when another crawl holds the crawl lock (busy: the run stops),
    EXIT_PARTIAL for any failure of the crawl (recorded per portal: the checks run all the same)."""
    from crawler.crawl import crawl
    from crawler.crawl.results import LOCKED

    apply_ocr_option(args)
    try:
        summary = crawl(
            args.portals or None,
            db=db,
            registry=args.registry,
            recheck=args.recheck,
            allow_networks=args.allow_network,
            settings={"LOG_LEVEL": "WARNING", **dict(args.set or [])},
            progress=not args.quiet,
            command=COMMAND,
        )
    except Exception as e:  # a crash of the crawl itself (Scrapy, the reactor, a setting): the run goes on
        message = f"{COMMAND}: the crawl crashed: {type(e).__name__}: {' '.join(str(e).split())}"
        print(message, file=sys.stderr)
        record_crawl_failure(db, args, message)
        return EXIT_PARTIAL
    if summary.status == LOCKED:  # busy, not broken: one line, and cron simply tries again next time
        print(f"{COMMAND}: {(summary.message or '').removeprefix('xxgk crawl: ')}; this run exits", file=sys.stderr)
        return EXIT_LOCKED
    for line in summary.lines():
        print(line, file=sys.stderr if line == summary.message else sys.stdout)
    if summary.exit_code == EXIT_FATAL:
        if summary.run_id is None:  # the crawl never started a run: nothing of it is in the archive yet
            record_crawl_failure(db, args, summary.message or "the crawl failed")
        return EXIT_PARTIAL
    return summary.exit_code


def record_crawl_failure(db: Path, args: argparse.Namespace, message: str) -> None:
    """Record a crawl that failed as a whole as a failed run with every portal it was to crawl in `error`,
    so the portal history (and its health alert after --unreachable-runs failures) tells the truth. When the
    archive or the registry cannot be used either, there is nothing to record into: the check will say why."""
    from crawler.registry import RegistryError, load_registry
    from storage import Archive
    from storage.db import sqlite3

    try:
        portals = args.portals or [p.id for p in load_registry(args.registry).portals]
        with Archive(db) as archive:
            run_id = archive.runs.start(COMMAND, {"portals": args.portals} if args.portals else None)
            for portal_id in portals:
                archive.runs.record_portal(run_id, portal_id, "error", message)
            archive.runs.finish(run_id, "failed", pages=0, documents=0, reports=0, errors=len(portals), note=message)
    except (RegistryError, OSError, sqlite3.Error) as e:
        print(f"{COMMAND}: the crawl failure could not be recorded: {e}", file=sys.stderr)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="crawl, check and notify in one command (for cron)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_archive_options(p)
    add_crawl_options(p)
    add_check_options(p)
    p.add_argument("--skip-crawl", action="store_true", help="only check and notify (e.g. after a manual crawl)")
    p.set_defaults(func=run)
