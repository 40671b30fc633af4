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

from crawler.commands._options import add_archive_options, add_check_options
from crawler.exits import EXIT_FATAL, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL


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


def run(args: argparse.Namespace) -> int:
    from storage import LockHeld, check_lock, default_db_path

    try:
        with check_lock(args.db or default_db_path()):
            return check_and_notify(args)
    except LockHeld:
        print("xxgk check: another xxgk check or run is working on this archive; try again later", file=sys.stderr)
        return EXIT_LOCKED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="cross-year checks, deadline monitor and alerts over the archive")
    add_archive_options(p)
    add_check_options(p)
    p.set_defaults(func=run)
