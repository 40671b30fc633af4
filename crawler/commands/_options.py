"""Options that several commands share, declared once (`xxgk crawl` and `xxgk run`; `xxgk check` and `xxgk run`)."""

from __future__ import annotations

import argparse
from datetime import date


def setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def add_archive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="archive database (default: $XXGK_DB or data/xxgk.db)")
    p.add_argument("--registry", help="registry YAML (default: $XXGK_REGISTRY or the bundled crawler/registry.yaml)")


def add_crawl_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("portals", nargs="*", metavar="NAME", help="registry portal ids to crawl (default: all)")
    p.add_argument(
        "--recheck", action="store_true", help="conditional GET for every archived document (catch edits now)"
    )
    p.add_argument(
        "--allow-network", action="append", metavar="CIDR", help="allow a private/loopback network (tests, replicas)"
    )
    p.add_argument("-s", "--set", action="append", type=setting, metavar="KEY=VALUE", help="a Scrapy/xxgk setting")
    p.add_argument("-q", "--quiet", action="store_true", help="no crawl progress lines")


def add_check_options(p: argparse.ArgumentParser) -> None:
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
