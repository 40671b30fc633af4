"""`xxgk discover URL`: from a portal's home page or 信息公开 page, find its annual-report column(s) and the agencies
whose reports they list, and write that as registry YAML with the URLs as evidence.

It walks as the generic spider does (spiders/base/generic.py), with the same link rules (titles.is_hub_link,
is_column_link, report_title) and the same link extraction (pages.links), but fetches a handful of pages one by
one (crawler/discovery/pagefetch.py) under the crawler's Confinement: the start URL's registrable domain, no private
address unless allowed, bounded sizes and times. At most `hub_depth` hops toward the column, at most `max_pages`
pages in all. A column's sub-lists (部门年报, 乡镇年报) and year folders (2023年度) are read too, one level down,
so that the departments a government's column lists are found.

An agency's kind is decided from its name (人民政府 or 行政公署 → government; everything else, including a
government's 办公室/办公厅 → department); its place comes from the national list when the name is one of its
governments. Nothing is verified: `verified: false` stays until someone has looked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from crawler.confinement import Confinement, parse_networks
from crawler.discovery.pagefetch import FetchError, Page, PageFetcher
from crawler.registry import Agency, Evidence, Portal, portal_for_url


@dataclass(frozen=True)
class ReportLink:
    url: str
    title: str
    year: int
    agency: str | None  # as printed in the title


@dataclass
class Column:
    url: str
    via: str | None = None  # the page that links it
    link_text: str | None = None
    reports: list[ReportLink] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)  # its sub-lists and year folders that were read


@dataclass
class Discovery:
    start_url: str
    domains: tuple[str, ...]
    columns: list[Column] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # fetched, in order
    failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)


def kind_from_name(name: str) -> str:
    """人民政府 / 行政公署 at the end → government; anything else (办公室, 局, 委员会 …) → department."""
    return "government" if name.endswith(("人民政府", "行政公署")) else "department"


def confinement_for(url: str, allow_networks: list[str] | tuple[str, ...] | None = None) -> Confinement:
    """The crawler's confinement for a portal known only by this URL: its registrable domain, the networks
    allowed, and (where the policy knows ports) 80/443 plus the URL's own port."""
    portal = portal_for_url(url, "discover", "government")
    networks = parse_networks(list(allow_networks or []))
    for_portal = getattr(Confinement, "for_portal", None)
    return for_portal(portal, networks) if for_portal else Confinement(portal.domains, networks)


def discover(
    url: str,
    *,
    allow_networks: list[str] | None = None,
    confinement: Confinement | None = None,
    fetcher: PageFetcher | None = None,
    hub_depth: int = 3,
    max_pages: int = 15,
) -> Discovery:
    """Walk from `url` toward the annual-report column(s). Raises FetchError when the start page itself cannot
    be fetched (refused, unreachable); failures of later pages are recorded and the walk goes on. `confinement`:
    a registry portal's own (its domains and ports) instead of the one for a URL alone."""
    from spiders.base import pages
    from spiders.base.titles import is_column_link, is_hub_link, is_year_folder, report_title

    confinement = confinement or confinement_for(url, allow_networks)
    fetcher = fetcher or PageFetcher(confinement)
    found = Discovery(url, confinement.domains)
    queue: deque[tuple[str, str, int, str | None, str | None, Column | None]] = deque(
        [(url, "start", 0, None, None, None)]
    )
    seen = {url}
    columns: dict[str, Column] = {}
    while queue and len(found.pages) < max_pages:
        page_url, role, depth, via, text, parent = queue.popleft()
        try:
            page = fetcher.get(page_url)
        except FetchError as e:
            if role == "start":
                raise
            found.failures.append((page_url, e.reason + (f": {e.detail}" if e.detail else "")))
            continue
        found.pages.append(page.url)
        try:
            links = pages.links(pages.selector(_response(page)), page.url)
        except ValueError as e:  # a page whose links cannot be read: recorded, the walk goes on
            found.failures.append((page.url, f"links: {e}"))
            continue
        reports = [
            ReportLink(link.url, rt.title, rt.year, rt.agency) for link in links if (rt := report_title(link.text))
        ]
        if role in ("column", "list") or (role == "start" and reports):
            column = parent if role == "list" and parent else columns.get(page.url)
            if column is None:
                column = columns[page.url] = Column(page.url, via, text)
                found.columns.append(column)
            elif role == "list":
                column.lists.append(page.url)
            known = {r.url for r in column.reports}
            column.reports += [r for r in reports if r.url not in known]
            if role != "list":  # one level of sub-lists and year folders below the column
                root = pages.folder(page.url)
                subs = set(pages.sub_listings(links, root, page.url))
                for link in links:
                    if link.url in seen or confinement.refusal(link.url):
                        continue
                    if link.url in subs or is_year_folder(link.text) or is_column_link(link.text, link.url):
                        seen.add(link.url)
                        queue.appendleft((link.url, "list", depth, page.url, link.text, column))
            continue
        if depth >= hub_depth and role != "start":
            continue
        for link in links:
            if link.url in seen or confinement.refusal(link.url):
                continue
            if is_column_link(link.text, link.url):
                seen.add(link.url)
                queue.appendleft((link.url, "column", depth + 1, page.url, link.text, None))
            elif is_hub_link(link.text, link.url):
                seen.add(link.url)
                queue.append((link.url, "hub", depth + 1, page.url, link.text, None))
    return found


def _response(page: Page):
    from scrapy.http import HtmlResponse

    headers = {"Content-Type": page.content_type} if page.content_type else {}
    return HtmlResponse(url=page.url, body=page.body, headers=headers)


# --- the YAML ---------------------------------------------------------------------------------------------------
_EVIDENCE_PER_AGENCY = 3


def portals_of(found: Discovery, agency: str | None = None, today: date | None = None) -> list[Portal]:
    """One registry portal per column found, with its agencies and the URLs that show them."""
    from crawler import national
    from crawler.registry_csv import portal_id

    today = today or date.today()
    taken: set[str] = set()
    out = []
    for column in found.columns:
        names: dict[str, list[ReportLink]] = {}
        for r in sorted(column.reports, key=lambda r: -r.year):
            name = r.agency or agency
            if name:
                names.setdefault(name, []).append(r)
        places = national.lookup(names)
        agencies = tuple(_agency(name, links, places.get(name), today) for name, links in names.items())
        governments = [a.name for a in agencies if a.kind == "government"]
        via = f" from {column.via}" if column.via else ""
        how = f"linked as “{column.link_text}”{via}" if column.link_text else "the start page lists reports"
        out.append(
            Portal(
                id=portal_id(urlsplit(column.url).hostname or "portal", taken),
                name=agency or (governments[0] if governments else agencies[0].name if agencies else column.url),
                cms="generic",
                start_url=column.url,
                domains=found.domains,
                verified=False,
                note=f"found by xxgk discover from {found.start_url}: {len(column.reports)} report links",
                agencies=agencies,
                evidence=(Evidence("discovered", column.url, how, today),),
                # Where the column was found from, so that the crawl finds it again when it moves.
                home_url=found.start_url if found.start_url != column.url else None,
            )
        )
    return out


def _agency(name: str, links: list[ReportLink], place: Agency | None, today: date) -> Agency:
    evidence = tuple(Evidence("discovered", r.url, r.title, today) for r in links[:_EVIDENCE_PER_AGENCY])
    if place:
        return Agency(
            name=name,
            kind="government",
            province=place.province,
            city=place.city,
            county=place.county,
            level=place.level,
            evidence=evidence,
        )
    return Agency(name=name, kind=kind_from_name(name), evidence=evidence)


def discovery_yaml(found: Discovery, agency: str | None = None, today: date | None = None) -> str:
    from crawler.registry_dump import dump_registry

    portals = portals_of(found, agency, today)
    reports = sum(len(c.reports) for c in found.columns)
    header = [
        f"xxgk discover {found.start_url} on {(today or date.today()).isoformat()}: {len(portals)} column(s), "
        f"{reports} report links, {len(found.pages)} pages read.",
        "Nothing here is verified: check each start_url before setting verified: true.",
    ]
    header += [f"not read: {url} ({reason})" for url, reason in found.failures]
    return dump_registry(portals, header="\n".join(header))
