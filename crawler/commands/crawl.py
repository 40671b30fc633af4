"""`xxgk crawl [NAME...]` and `xxgk crawl --url URL --agency NAME --kind KIND`: crawl portals into the archive.

`xxgk crawl --redis URL --writer` and `xxgk crawl --redis URL [NAME...]` on as many machines as wanted: a
distributed crawl (crawler/crawl/distributed.py, docs/operations.md): one writer archives, the workers share
the frontier in Redis, download and parse.

Exit codes (crawler.exits): 0 ok, 1 partial failure (a portal unreachable, pages or documents failed; the rest is archived),
2 fatal (nothing crawled: lock held by another run, bad registry or portal name, archive not writable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from crawler.commands._options import (
    add_archive_options,
    add_crawl_options,
    add_distributed_options,
    apply_ocr_option,
    http_url,
    redis_url,
)
from crawler.exits import EXIT_FATAL
from crawler.registry import KINDS


def run(args: argparse.Namespace) -> int:
    apply_ocr_option(args)
    settings = dict(args.set or [])
    settings.setdefault("LOG_LEVEL", "INFO" if args.verbose else "WARNING")
    summary = (
        _distributed(args, settings)
        if (args.redis or os.environ.get("XXGK_REDIS") or args.writer)
        else _local(args, settings)
    )
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        for line in summary.lines():
            print(line, file=sys.stderr if summary.exit_code == EXIT_FATAL and line == summary.message else sys.stdout)
    return summary.exit_code


def _distributed(args: argparse.Namespace, settings: dict):
    import time

    from crawler.crawl.distributed import run_worker, run_writer
    from crawler.crawl.job import _fatal

    now = time.monotonic()

    try:
        url = args.redis or redis_url(os.environ.get("XXGK_REDIS", ""))
    except argparse.ArgumentTypeError as e:
        given = "$XXGK_REDIS" if os.environ.get("XXGK_REDIS") else "--writer needs --redis URL or $XXGK_REDIS"
        return _fatal(f"{given}: {e}", now)
    if args.url:
        return _fatal("--url crawls one portal in one process: it does not go with --redis", now)
    if args.writer:
        if args.portals:
            return _fatal("the writer takes no portal names: give them to the workers", now)
        return run_writer(url, db=args.db, registry=args.registry, settings=settings, progress=not args.quiet)
    return run_worker(
        url,
        args.portals or None,
        db=args.db,
        registry=args.registry,
        recheck=args.recheck,
        allow_networks=args.allow_network,
        settings=settings,
        progress=not args.quiet,
    )


def _local(args: argparse.Namespace, settings: dict):
    from crawler.crawl import crawl

    return crawl(
        args.portals or None,
        db=args.db,
        registry=args.registry,
        url=args.url,
        agency=args.agency,
        kind=args.kind,
        js=args.js,
        recheck=args.recheck,
        allow_networks=args.allow_network,
        settings=settings,
        progress=not args.quiet,
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "crawl",
        help="crawl registry portals (or one portal from --url) into the archive",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_archive_options(p)
    add_crawl_options(p)
    add_distributed_options(p)
    p.add_argument(
        "--url", type=http_url, help="crawl a portal outside the registry, from its home page or any page of it"
    )
    p.add_argument("--agency", help="with --url: the agency whose reports these are")
    p.add_argument("--kind", choices=KINDS, default="government", help="with --url (default: government)")
    p.add_argument("--js", action="store_true", help="with --url: render listing pages in Chromium")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="Scrapy's INFO log")
    p.set_defaults(func=run)
