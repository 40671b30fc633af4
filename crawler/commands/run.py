"""`xxgk run [NAME...] [--today D] [--notify CONFIG] [--digest] …`: the cron job — crawl, check, notify.

One run at a time per archive (a lock beside the database; a second run exits at once with 75).
Exit codes: 0 everything done; 1 partial (a portal failed, or some alerts could not be delivered:
both are recorded and retried next run); 2 fatal (the crawl could not start, or the registry or
apprise config is unusable); 75 another run holds the lock.
"""

from __future__ import annotations

import argparse
import sys

from crawler.commands._options import add_archive_options, add_check_options, add_crawl_options
from crawler.commands.check import check_and_notify
from crawler.exits import EXIT_FATAL, EXIT_LOCKED, EXIT_OK, EXIT_PARTIAL


def run(args: argparse.Namespace) -> int:
    from crawler.crawl import crawl
    from storage import LockHeld, check_lock, default_db_path

    try:
        with check_lock(args.db or default_db_path()):
            crawled = EXIT_OK
            if not args.skip_crawl:
                summary = crawl(
                    args.portals or None,
                    db=args.db,
                    registry=args.registry,
                    recheck=args.recheck,
                    allow_networks=args.allow_network,
                    settings={"LOG_LEVEL": "WARNING", **dict(args.set or [])},
                    progress=not args.quiet,
                    command="xxgk run",
                )
                for line in summary.lines():
                    print(line, file=sys.stderr if line == summary.message else sys.stdout)
                if summary.exit_code == EXIT_FATAL:
                    return EXIT_FATAL
                crawled = summary.exit_code
            checked = check_and_notify(args)
    except LockHeld:
        print("xxgk run: another xxgk run or check is working on this archive; this run exits", file=sys.stderr)
        return EXIT_LOCKED
    if checked == EXIT_FATAL:
        return EXIT_FATAL
    return EXIT_PARTIAL if EXIT_PARTIAL in (crawled, checked) else EXIT_OK


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
