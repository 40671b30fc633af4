"""`xxgk discover URL [--agency NAME] [--allow-network CIDR]`: find a portal's annual-report column(s) from its
home page or 信息公开 page and print registry YAML for them, with the URLs as evidence.

It reads a few pages (at most 15; at most 3 link hops toward the column) over HTTP(S) under the crawler's
confinement: the URL's registrable domain only, no private or loopback address unless --allow-network names its
network. Paste the output into the registry (or a file for XXGK_REGISTRY), check each start_url yourself, then
set verified: true.

Exit codes (crawler.exits): 0 a column was found; 1 none was found (the pages read are listed); 2 the start page
could not be read (refused, unreachable) or the input is wrong.

Environment: reads none (the registry is not consulted; the output is for it).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys

from crawler.exits import EXIT_FATAL, EXIT_OK, EXIT_PARTIAL


def _network(text: str) -> str:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a network (CIDR such as 127.0.0.1/32): {text!r}") from None
    return text


def run(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from crawler.discovery.discover import discover, discovery_yaml
    from crawler.discovery.pagefetch import FetchError

    try:
        parts = urlsplit(args.url)
        ok = parts.scheme in ("http", "https") and parts.hostname and (parts.port or 0) >= 0
    except ValueError:
        ok = False
    if not ok:
        print(f"xxgk discover: not an http:// or https:// URL: {args.url!r}", file=sys.stderr)
        return EXIT_FATAL
    try:
        found = discover(args.url, allow_networks=args.allow_network)
    except FetchError as e:
        hint = (
            " (a private or loopback address: --allow-network CIDR allows it)" if e.detail == "private_address" else ""
        )
        print(
            f"xxgk discover: cannot read {e.url}: {e.reason}{f' ({e.detail})' if e.detail else ''}{hint}",
            file=sys.stderr,
        )
        return EXIT_FATAL
    if not found.columns:
        print(
            f"xxgk discover: no annual-report column found from {args.url} ({len(found.pages)} pages read: "
            f"{', '.join(found.pages)})",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    sys.stdout.write(discovery_yaml(found, args.agency))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "discover",
        help="find a portal's annual-report column(s) and print registry YAML with the URLs as evidence",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", metavar="URL", help="the portal's home page or its 信息公开 page")
    p.add_argument("--agency", metavar="NAME", help="the agency whose portal this is (names reports without one)")
    p.add_argument(
        "--allow-network",
        action="append",
        type=_network,
        metavar="CIDR",
        help="allow a private/loopback network (tests, replicas)",
    )
    p.set_defaults(func=run)
