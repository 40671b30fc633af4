"""`xxgk check [--today D] [--notify CONFIG] [--dry-run] [--digest] [--db PATH]`: cross-year rules,
the deadline monitor and alerts over the archive.

The archive must exist: a mistyped --db never becomes a fresh, empty archive whose every agency is "missing"
(only `xxgk crawl` and `xxgk import` create one).

Exit codes (as `xxgk crawl`): 0 done (problems found in reports are results, not errors); 1 partial:
some alerts could not be delivered (recorded, retried next run); 2 fatal: no archive at --db, the archive
cannot be read or written, the registry or apprise config could not be used; 75 another check or run holds
the archive's check lock (try later).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from crawler.commands._options import add_archive_options, add_check_options, add_network_option
from crawler.exits import EXIT_FATAL, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL


def archive_path(args: argparse.Namespace) -> Path:
    from storage import default_db_path

    return Path(args.db or default_db_path())


def refuse_unusable(args: argparse.Namespace, command: str) -> int | None:
    """EXIT_FATAL with one line when the input cannot work, before anything is created (not even the lock
    file): an apprise config that does not load, or no archive where --db (or $XXGK_DB) points."""
    from crawler.alerts import DeliveryConfigError, Targets

    if args.notify and not args.dry_run:
        try:
            Targets.load(args.notify, warn=lambda _: None)  # the check loads it again, and warns then
        except DeliveryConfigError as e:
            print(f"{command}: {e}", file=sys.stderr)
            return EXIT_FATAL
    db = archive_path(args)
    if not db.exists():
        print(f"{command}: no archive at {db} (create one with xxgk crawl or xxgk import)", file=sys.stderr)
        return EXIT_FATAL
    if not db.is_file():
        print(f"{command}: {db} is not an archive database (it is a directory or a device)", file=sys.stderr)
        return EXIT_FATAL
    return None


def unusable(db: Path) -> str | None:
    """Why the archive at `db` cannot be opened (a corrupt header, a damaged schema page, not a database), or
    None. Opened as every job opens it (brought up to the current schema), so `xxgk run` can say so in one line
    before crawling into it."""
    from storage import Archive
    from storage.db import sqlite3

    try:
        Archive(db).close()
    except (OSError, sqlite3.Error) as e:
        return " ".join(str(e).split())
    return None


def check_and_notify(args: argparse.Namespace, echo=print, command: str = "xxgk check") -> int:
    """The check half of `xxgk run` too: run the checks, queue alerts, deliver them."""
    from crawler.alerts import DeliveryConfigError, check_and_alert
    from crawler.registry import RegistryError, load_registry
    from storage.db import sqlite3

    db = archive_path(args)
    try:
        outcome = check_and_alert(
            db,
            load_registry(args.registry),
            args.today or date.today(),
            notify=args.notify,
            digest=args.digest,
            dry_run=args.dry_run,
            screenshots=not args.no_screenshots,
            public_url=args.public_url,
            unreachable_runs=args.unreachable_runs,
            alert_since=args.alert_since,
            echo=echo,
            allow_networks=args.allow_network or (),
        )
    except (RegistryError, DeliveryConfigError) as e:
        print(f"{command}: {e}", file=sys.stderr)
        return EXIT_FATAL
    except sqlite3.Error as e:  # a corrupt header, a damaged page, a read-only file: every write rolled back
        print(f"{command}: cannot use the archive {db}: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_FATAL
    except OSError as e:
        print(f"{command}: {e.filename or db}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FATAL
    for line in outcome.lines():
        echo(line)
    return EXIT_PARTIAL if outcome.undelivered else EXIT_OK


def run(args: argparse.Namespace) -> int:
    from storage import LockHeld, check_lock

    refused = refuse_unusable(args, "xxgk check")
    if refused is not None:
        return refused
    lock = check_lock(archive_path(args))
    try:
        with lock:
            return check_and_notify(args)
    except LockHeld:
        print("xxgk check: another xxgk check or run is working on this archive; try again later", file=sys.stderr)
        return EXIT_LOCKED
    except OSError as e:  # the lock file cannot be made: a read-only mount, a directory we may not write
        print(f"xxgk check: cannot take the lock {lock.path}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FATAL


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="cross-year checks, deadline monitor and alerts over the archive")
    add_archive_options(p)
    add_check_options(p)
    add_network_option(p)
    p.set_defaults(func=run)
