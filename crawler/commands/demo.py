"""`xxgk demo [--db PATH]`: the offline demo — replica portals on 127.0.0.1, crawled, edited, crawled again,
checked; then how to browse the archive with `xxgk serve`."""

from __future__ import annotations

import argparse
import sys


def run(args: argparse.Namespace) -> int:
    from crawler.replica.demo import DemoError, run_demo

    try:
        return run_demo(args.db, checks=not args.no_checks)
    except DemoError as e:
        print(f"xxgk demo: {e}", file=sys.stderr)
        return 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="crawl the bundled replica portals into a fresh archive and check it (offline)")
    p.add_argument("--db", default="demo/xxgk.db", help="the demo archive (default: demo/xxgk.db, replaced each run)")
    p.add_argument("--no-checks", action="store_true", help="crawl only")
    p.set_defaults(func=run)
