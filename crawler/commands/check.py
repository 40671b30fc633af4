"""`xxgk check [--today D] [--notify CONFIG] [--dry-run] [--digest] [--db PATH]`: cross-year rules,
the deadline monitor and alerts over the archive.

Exit codes (as `xxgk crawl`): 0 done (problems found in reports are results, not errors); 1 partial:
some alerts could not be delivered (recorded, retried next run); 2 fatal: the registry or apprise
config could not be used; 75 another check or run holds the archive's check lock (try later).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

EXIT_OK, EXIT_PARTIAL, EXIT_FATAL = 0, 1, 2
EXIT_LOCKED = 75  # sysexits EX_TEMPFAIL: cron may simply try again next time


def add_check_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `xxgk check` and `xxgk run`."""
    p.add_argument("--db", help="archive database (default: $XXGK_DB or data/xxgk.db)")
    p.add_argument("--registry", help="registry YAML (default: $XXGK_REGISTRY or the bundled one)")
    p.add_argument(
        "--today", type=date.fromisoformat, help="judge deadlines as of this date (YYYY-MM-DD), for reproducible runs"
    )
    p.add_argument(
        "--notify", metavar="CONFIG", help="apprise config file (YAML or text) whose tagged URLs receive the alerts"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the alerts instead of sending them (nothing is marked sent)"
    )
    p.add_argument("--digest", action="store_true", help="send one message per target for the whole run")
    p.add_argument("--no-screenshots", action="store_true", help="do not screenshot listing pages of missing reports")
    p.add_argument(
        "--unreachable-runs", type=int, default=3, metavar="N", help="alert when a portal failed N runs in a row"
    )
    p.add_argument(
        "--public-url",
        help="base URL of `xxgk serve` used in alert links (default: $XXGK_PUBLIC_URL or http://127.0.0.1:8001)",
    )


def check_and_notify(args: argparse.Namespace, echo=print) -> int:
    """The check half of `xxgk run` too: run the checks, queue alerts, deliver them."""
    from crawler.alerts import DeliveryConfigError, check_and_alert
    from crawler.registry import RegistryError, load_registry

    try:
        outcome = check_and_alert(
            args.db,
            load_registry(args.registry),
            args.today or date.today(),
            notify=args.notify,
            digest=args.digest,
            dry_run=args.dry_run,
            screenshots=not args.no_screenshots,
            public_url=args.public_url,
            unreachable_runs=args.unreachable_runs,
            echo=echo,
        )
    except (RegistryError, DeliveryConfigError) as e:
        print(f"xxgk check: {e}", file=sys.stderr)
        return EXIT_FATAL
    for line in outcome.lines():
        echo(line)
    return EXIT_PARTIAL if outcome.undelivered else EXIT_OK


def check_lock(db: str | None):
    """One checker at a time per archive, so two runs never deliver the same pending alert twice."""
    from crawler.crawl import CrawlLock
    from storage import default_db_path

    return CrawlLock(f"{db or default_db_path()}.check")


def run(args: argparse.Namespace) -> int:
    from crawler.crawl import LockHeld

    try:
        with check_lock(args.db):
            return check_and_notify(args)
    except LockHeld:
        print("xxgk check: another xxgk check or run is working on this archive; try again later", file=sys.stderr)
        return EXIT_LOCKED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="cross-year checks, deadline monitor and alerts over the archive")
    add_check_options(p)
    p.set_defaults(func=run)
