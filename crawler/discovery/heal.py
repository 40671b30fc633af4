"""A registry portal's annual-report column, found from its home page (self-healing listings).

The crawl calls `find_column` for a portal declared by its `home_url` when no column is known yet, and again when
the known one answers 404/410 or no longer lists the portal's reports (crawler/crawl/columns.py). It is
`xxgk discover`'s walk (discover.py), held to the portal's own confinement (its domains and ports, the private
networks the operator allows), and it picks one column: the one with the most report links, the nearest to the
home page on a tie. Blocking (a few sequential GETs): the crawl runs it in a thread.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.confinement import Confinement
from crawler.discovery.discover import Column, Discovery, discover
from crawler.discovery.pagefetch import FetchError
from crawler.registry import Portal

_EVIDENCE_REPORTS = 3  # report links kept as the evidence that the column lists reports


@dataclass(frozen=True)
class FoundColumn:
    url: str
    home_url: str  # where the walk started
    found_from: str | None  # the page that links the column (None: the home page lists reports itself)
    link_text: str | None
    reports: int  # report links seen on it (and its sub-lists)
    evidence: dict[str, Any] = field(default_factory=dict)  # pages read, a few report links, pages that failed

    def how(self) -> str:
        """How it was found, in the words of the discover command's evidence note."""
        if self.found_from and self.link_text:
            return f"linked as “{self.link_text}” from {self.found_from}"
        return f"{self.home_url} lists reports itself"


@dataclass(frozen=True)
class Search:
    """What a search from the home page gave: the column, or None and why."""

    column: FoundColumn | None
    note: str


def find_column(portal: Portal, networks: tuple = (), exclude: Collection[str] = ()) -> Search:
    """The portal's column as found from its home_url, other than the URLs in `exclude` (the column that is gone)."""
    if not portal.home_url:
        return Search(None, "the registry gives no home_url to look from")
    try:
        found = discover(portal.home_url, confinement=Confinement.for_portal(portal, networks))
    except FetchError as e:
        return Search(None, f"the home page {portal.home_url} could not be read: {e}")
    column = best_column(found, exclude)
    if column is None:
        others = [c.url for c in found.columns if c.reports]
        why = f"only the column already known ({', '.join(others)})" if others else "no column listing reports"
        return Search(None, f"{why} from {portal.home_url} ({len(found.pages)} pages read)")
    return Search(_found(found, column), f"{len(column.reports)} report links")


def best_column(found: Discovery, exclude: Collection[str] = ()) -> Column | None:
    """The column with the most report links (discovery order, nearest first, breaks ties); None if none lists any.
    A column in `exclude` is left out under any of its names (`…/nb/` and `…/nb/index.html` are one page)."""
    excluded = {page_key(u) for u in exclude}
    candidates = [c for c in found.columns if c.reports and page_key(c.url) not in excluded]
    return max(candidates, key=lambda c: len(c.reports)) if candidates else None  # max keeps the first of a tie


_INDEX = re.compile(r"/(?:index|default)\.s?html?$", re.I)


def page_key(url: str) -> str:
    """A folder's index page and the folder itself as one key (scheme and host case aside)."""
    parts = urlsplit(url)
    path = _INDEX.sub("/", parts.path or "/")
    return f"{parts.netloc.lower()}{path.rstrip('/') or '/'}?{parts.query}"


def _found(found: Discovery, column: Column) -> FoundColumn:
    return FoundColumn(
        url=column.url,
        home_url=found.start_url,
        found_from=column.via,
        link_text=column.link_text,
        reports=len(column.reports),
        evidence={
            "pages": list(found.pages),
            "reports": [{"url": r.url, "title": r.title} for r in column.reports[:_EVIDENCE_REPORTS]],
            "lists": list(column.lists),
            "failures": [{"url": u, "reason": why} for u, why in found.failures],
        },
    )
