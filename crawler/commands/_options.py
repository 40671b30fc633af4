"""Options that several commands share, declared once (`xxgk crawl` and `xxgk run`; `xxgk check` and `xxgk run`),
the argparse types that refuse bad input at the door, and the environment each command reads.

A value that cannot work is refused here, with one line and exit 2, before any lock is taken or any archive is
opened: deep inside a crawl or a check the same mistake is a traceback, or worse, silently a different run.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
from datetime import date
from urllib.parse import urlsplit

FIRST_YEAR, LAST_YEAR = 2000, 2100  # annual reports exist since 2008; anything outside is a typo

# --- types ---------------------------------------------------------------------------------------------------


def network(text: str) -> str:
    """A CIDR network such as 127.0.0.1/32 (a bare address is its own /32 or /128)."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a network (CIDR such as 127.0.0.1/32): {text!r}") from None


def positive_int(text: str) -> int:
    """A count of at least 1 (a count of runs, of workers)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def _port_number(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not low <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is {low} to 65535, got {text!r}")
    return value


def port(text: str) -> int:
    """A TCP port to listen on, 1 to 65535."""
    return _port_number(text, 1)


def any_port(text: str) -> int:
    """A TCP port, or 0 for any free one (the command prints the one it got)."""
    return _port_number(text, 0)


def year(text: str) -> int:
    """A report year, 2000 to 2100: a larger number would overflow SQLite's integers and crash a later check."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}") from None
    if not FIRST_YEAR <= value <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"a report year is {FIRST_YEAR} to {LAST_YEAR}, got {text!r}")
    return value


def iso_date(text: str) -> date:
    """A calendar date, YYYY-MM-DD: 2021-13-45 stored as a publication date would crash every later check."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def http_url(text: str) -> str:
    """An http(s) URL with a host: `not a url` or `http://[::1` would otherwise fail inside the crawl."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL with a host: {text!r}")
    return text.strip()


def redis_url(text: str) -> str:
    """A Redis URL (redis://host:port/db, rediss:// for TLS, unix:///path.sock)."""
    parts = urlsplit(text.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a Redis URL: {text!r} ({e})") from None
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
        raise argparse.ArgumentTypeError(f"not a Redis URL (redis://HOST:PORT/DB): {text!r}")
    return text.strip()


# Settings Scrapy or xxgk read as numbers or booleans (crawler/settings.py, Scrapy's getint/getfloat/getbool):
# a value that does not parse would stop the crawl at start-up, or in the middle of it.
INT_SETTINGS = frozenset(
    "CONCURRENT_REQUESTS CONCURRENT_REQUESTS_PER_DOMAIN CONCURRENT_REQUESTS_PER_IP DOWNLOAD_MAXSIZE "
    "DOWNLOAD_WARNSIZE RETRY_TIMES REDIRECT_MAX_TIMES DEPTH_LIMIT CLOSESPIDER_PAGECOUNT CLOSESPIDER_ITEMCOUNT "
    "CLOSESPIDER_ERRORCOUNT PLAYWRIGHT_MAX_CONTEXTS PLAYWRIGHT_MAX_PAGES_PER_CONTEXT "
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT XXGK_ARCHIVE_WORKERS XXGK_PARALLEL_PORTALS XXGK_MAX_PAGES_PER_PORTAL "
    "XXGK_HUB_DEPTH XXGK_ZIP_MAX_MEMBERS XXGK_ZIP_MAX_TOTAL".split()
)
FLOAT_SETTINGS = frozenset(
    "DOWNLOAD_DELAY DOWNLOAD_TIMEOUT AUTOTHROTTLE_START_DELAY AUTOTHROTTLE_MAX_DELAY "
    "AUTOTHROTTLE_TARGET_CONCURRENCY CLOSESPIDER_TIMEOUT XXGK_RECHECK_DAYS XXGK_RETRY_BACKOFF_BASE "
    "XXGK_RETRY_BACKOFF_MAX XXGK_MAX_RETRY_AFTER XXGK_PROGRESS_SECONDS XXGK_REDIS_LEASE_SECONDS "
    "XXGK_REDIS_JOIN_SECONDS".split()
)
BOOL_SETTINGS = frozenset(
    "AUTOTHROTTLE_ENABLED ROBOTSTXT_OBEY RETRY_ENABLED REDIRECT_ENABLED COOKIES_ENABLED TELNETCONSOLE_ENABLED "
    "HTTPCACHE_ENABLED".split()
)
_BOOLS = ("0", "1", "True", "False", "true", "false")  # what Scrapy's Settings.getbool accepts


def setting(text: str) -> tuple[str, str]:
    """KEY=VALUE for a Scrapy/xxgk setting; the numeric and boolean ones must parse as Scrapy will read them."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    problem = _setting_problem(key, value.strip())
    if problem:
        raise argparse.ArgumentTypeError(f"{key}: {problem}, got {value!r}")
    return key, value


def _setting_problem(key: str, value: str) -> str | None:
    """Why `value` cannot be the setting `key`, or None when it can (or the setting is not a known number)."""
    if key in BOOL_SETTINGS:
        return None if value in _BOOLS else "expected True or False"
    if key not in INT_SETTINGS and key not in FLOAT_SETTINGS:
        return None
    try:
        number = int(value) if key in INT_SETTINGS else float(value)
    except ValueError:
        return "expected a whole number" if key in INT_SETTINGS else "expected a number"
    if not math.isfinite(number) or number < 0:
        return "expected a number of 0 or more"
    return None


# --- shared options ------------------------------------------------------------------------------------------


def add_archive_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="archive database (default: $XXGK_DB or data/xxgk.db)")
    p.add_argument("--registry", help="registry YAML (default: $XXGK_REGISTRY or the bundled crawler/registry.yaml)")


def add_crawl_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("portals", nargs="*", metavar="NAME", help="registry portal ids to crawl (default: all)")
    p.add_argument(
        "--recheck", action="store_true", help="conditional GET for every archived document (catch edits now)"
    )
    add_network_option(p)
    p.add_argument(
        "--no-ocr", action="store_true", help="no OCR of pages without text (a scan is kept as no_text; XXGK_OCR=0)"
    )
    p.add_argument("-s", "--set", action="append", type=setting, metavar="KEY=VALUE", help="a Scrapy/xxgk setting")
    p.add_argument("-q", "--quiet", action="store_true", help="no crawl progress lines")


def apply_ocr_option(args: argparse.Namespace) -> None:
    """--no-ocr for a crawl: said through XXGK_OCR, which the archive workers (and their parses) inherit."""
    if getattr(args, "no_ocr", False):
        os.environ["XXGK_OCR"] = "0"


def add_network_option(p: argparse.ArgumentParser) -> None:
    """--allow-network: for the crawl, and for the screenshot browser of `xxgk check` (the same confinement)."""
    p.add_argument(
        "--allow-network",
        action="append",
        type=network,
        metavar="CIDR",
        help="allow a private/loopback network (tests, replicas)",
    )


def add_distributed_options(p: argparse.ArgumentParser) -> None:
    """Scale-out on scrapy-redis (crawler/crawl/distributed.py): workers share the frontier, one writer archives."""
    p.add_argument(
        "--redis",
        type=redis_url,
        metavar="URL",
        help="share the frontier in this Redis (default: $XXGK_REDIS): this process is a crawl worker of the "
        "writer's round",
    )
    p.add_argument(
        "--writer",
        action="store_true",
        help="with --redis: be the round's one archive writer (start it first; it ends when the workers are done)",
    )


def add_check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--today", type=iso_date, help="judge deadlines as of this date (YYYY-MM-DD), for reproducible runs")
    p.add_argument(
        "--notify", metavar="CONFIG", help="apprise config file (YAML or text) whose tagged URLs receive the alerts"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the alerts instead of sending them (nothing is marked sent)"
    )
    p.add_argument("--digest", action="store_true", help="send one message per target for the whole run")
    p.add_argument("--no-screenshots", action="store_true", help="do not screenshot listing pages of missing reports")
    p.add_argument(
        "--unreachable-runs",
        type=positive_int,
        default=3,
        metavar="N",
        help="alert when a portal failed N runs in a row (1 or more)",
    )
    p.add_argument(
        "--public-url",
        help="base URL of `xxgk serve` used in alert links (default: $XXGK_PUBLIC_URL or http://127.0.0.1:8001)",
    )
    p.add_argument(
        "--alert-since",
        type=year,
        metavar="YEAR",
        help="push alerts about report years from YEAR on (default: the current cycle only, deadlines of the "
        "last 12 months; older verdicts are recorded and browsable, not pushed)",
    )


# --- the environment -----------------------------------------------------------------------------------------

# Every variable xxgk reads (grep os.environ in crawler/, spiders/, storage/), and what for.
ENVIRONMENT: dict[str, str] = {
    "XXGK_DB": "the archive, when --db is not given (default data/xxgk.db)",
    "XXGK_REGISTRY": "the registry YAML, when --registry is not given (default: the bundled crawler/registry.yaml)",
    "XXGK_PUBLIC_URL": "base URL of alert links, when --public-url is not given (default http://127.0.0.1:8001)",
    "XXGK_ALLOWED_PRIVATE_NETWORKS": "comma-separated networks the crawl may reach, as --allow-network",
    "XXGK_RECHECK_DAYS": "days between conditional GETs of an archived document (default 7; 0: every run)",
    "XXGK_CONTACT": "the contact URL in the crawler's user agent",
    "XXGK_OCR": "0, false, no or off: no OCR of pages without text (OCR is on by default; as --no-ocr)",
    "XXGK_OCR_SECONDS": "seconds of OCR one document may take before its later pages are left unread (default 600)",
    "XXGK_OCR_ENGINE": "rapid or tesseract: the OCR engine to use first (default rapid, tesseract as fallback)",
    "XXGK_OFFICE_POOL_SIZE": "long-lived LibreOffice processes a crawl keeps for DOC/WPS/RTF (default 2)",
    "XXGK_OFFICE_POOL_IDLE": "seconds a pooled LibreOffice may sit unused before it is ended (default 300)",
    "XXGK_UNO_PYTHON": "the Python with LibreOffice's UNO bindings for the pool (default /usr/bin/python3)",
    "XXGK_SOFFICE_TIMEOUT": "seconds LibreOffice may take to convert a DOC, WPS or RTF (default 60)",
    "XXGK_CHROMIUM": "the Chromium binary for JavaScript listings and screenshots (default /usr/bin/chromium)",
    "XXGK_LOG_LEVEL": "Scrapy's log level under `scrapy crawl` only: xxgk crawl and run set theirs (-v: INFO)",
    "XXGK_CACHE": "where the replica portals' LibreOffice renditions are cached (default ~/.cache/xxgk)",
    "XXGK_MODOOD_DIR": "modood's provinces/cities/areas CSVs, for `registry national --cross-check` without DIR",
    "XXGK_DEBUG": "1: print the full traceback of an unexpected error",
    "XXGK_REDIS": "Redis URL of a distributed crawl, when --redis is not given (redis://HOST:PORT/DB)",
    "XXGK_FRONTIER_DIR": "where a one-process crawl keeps the requests it has yet to make (default: <db stem>-frontier)",
}
_CRAWL = ("XXGK_DB", "XXGK_REGISTRY", "XXGK_ALLOWED_PRIVATE_NETWORKS", "XXGK_RECHECK_DAYS", "XXGK_CONTACT")
_PARSE = ("XXGK_OCR", "XXGK_OCR_SECONDS", "XXGK_OCR_ENGINE", "XXGK_SOFFICE_TIMEOUT")
_POOL = ("XXGK_OFFICE_POOL_SIZE", "XXGK_OFFICE_POOL_IDLE", "XXGK_UNO_PYTHON")
_CHECK = ("XXGK_DB", "XXGK_REGISTRY", "XXGK_PUBLIC_URL", "XXGK_CHROMIUM")
COMMAND_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "crawl": (*_CRAWL, *_PARSE, *_POOL, "XXGK_CHROMIUM", "XXGK_REDIS", "XXGK_FRONTIER_DIR"),
    "run": (*_CRAWL, *_PARSE, *_POOL, "XXGK_PUBLIC_URL", "XXGK_CHROMIUM"),
    "check": _CHECK,
    "import": ("XXGK_DB", *_PARSE),
    "parse": _PARSE,
    "serve": ("XXGK_DB",),
    "demo": ("XXGK_CACHE", "XXGK_CHROMIUM", *_PARSE),
    "replica": ("XXGK_CACHE",),
    "registry": ("XXGK_REGISTRY", "XXGK_MODOOD_DIR"),
}


def environment_epilog(command: str) -> str:
    """The `--help` epilog of `command`: the environment variables it reads, one per line."""
    names = [*dict.fromkeys((*COMMAND_ENVIRONMENT.get(command, ()), "XXGK_DEBUG"))]
    width = max(len(n) for n in names)
    return "environment:\n" + "\n".join(f"  {n:<{width}}  {ENVIRONMENT[n]}" for n in names)
