"""The base of every xxgk spider: from listing entries to archived report documents.

A family base (trs, hanweb, fujian, jsonapi, generic) knows how its CMS lists entries and pages; this class
does the rest, the same for all of them:

- a list entry whose title names an annual report (spiders.base.titles) is fetched as a *report page*;
- a report page that prints the template's tables is an inline report; its attachments
  (pdf/doc/docx/wps/xls/xlsx/zip, recognised from the content area, not the page chrome) are fetched by plain
  HTTP, one after the other, and the page itself is handed to the archive *last*: a crawl killed midway
  leaves the page unknown, so the next run fetches it again and finishes what was left (nothing lost);
- each document's agency and year come from its title, its publication date from the page (spiders.base.dates).

Spider arguments: a registry Portal (class attribute, set by spiders.loader), or for the generic path
`url`, `agency` and `kind` (spiders.base.generic.UrlSpider).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import scrapy
from scrapy.http import Request, Response
from scrapy_playwright.page import PageMethod

from crawler.browser import PLAYWRIGHT_HANDLERS, BrowserGate, settle
from crawler.confinement import Confinement, parse_networks
from crawler.crawl.incremental import UnchangedDocument
from crawler.crawl.items import DocumentItem, GoneItem, ListedItem, ReportItem, SeenItem
from crawler.crawl.session import CrawlSession
from crawler.model import HttpMeta, IncomingDocument
from crawler.parsing.sniff import sniff
from crawler.registry import Portal, load_registry
from spiders.base import dates, pages
from spiders.base.documents import FORMAT_PREFERENCE, REPORT_FORMATS, UnsafeArchive, zip_members
from spiders.base.outcome import PortalOutcome, failure_reason, is_skip
from spiders.base.pages import Link
from spiders.base.titles import ReportTitle, is_column_link, is_year_folder, maybe_report_title, report_title

logger = logging.getLogger(__name__)

GONE_STATUSES = (404, 410)  # a known document answering these was taken down
MAX_PICTURES = 30  # content images fetched from one 图片版 report page (a report's tables: 3 to a dozen)



@dataclass
class Entry:
    """A list entry that may be a report: where it points, what the list called it, the date beside it."""

    url: str
    text: str
    date: str | None = None
    listing_url: str | None = None
    title: ReportTitle | None = None


@dataclass
class Context:
    """What a report page says about the documents it links."""

    page_url: str
    title: ReportTitle | None
    agency: str | None
    published: dates.Published


@dataclass
class Task:
    link: Link
    key: tuple[str | None, int | None]  # (agency, year) of the report the attachment holds
    title: ReportTitle | None


@dataclass
class Chain:
    """A report page's attachments, fetched one after the other, then the page's own item."""

    context: Context
    tasks: list[Task]
    page_item: ReportItem | DocumentItem | None
    inline: bool
    done_keys: set = field(default_factory=set)
    failed: bool = False
    emitted: list[str] = field(default_factory=list)  # attachment items handed to the archive


class ReportSpider(scrapy.Spider):
    name = "report"
    portal: Portal | None = None  # set on the class by spiders.loader (or by UrlSpider from its arguments)
    start_role = "column"  # what the start URL is: the column itself (registry portals) or a hub (generic)

    # --- construction -----------------------------------------------------------------------------------
    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        portal = cls.portal
        if portal is None and cls.name not in ("report", "generic"):
            portal = _registry_portal(settings, cls.name)
        if portal is not None and portal.js:
            settings.set("DOWNLOAD_HANDLERS", PLAYWRIGHT_HANDLERS, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup(crawler.settings)
        return spider

    def setup(self, settings) -> None:
        """Called once the spider has its crawler (and before the crawler's settings are frozen)."""
        if self.portal is None:
            self.portal = _registry_portal(settings, self.name)
        self.confinement = Confinement.for_portal(
            self.portal, parse_networks(settings.getlist("XXGK_ALLOWED_PRIVATE_NETWORKS"))
        )
        # Listings rendered in Chromium: every request of the page goes through the gate (listing_request), the
        # abort check is a second line should the gate not be installed. Refusals count like Scrapy's.
        self.browser_gate = BrowserGate(
            self.confinement, on_refused=lambda _url, reason: self.crawler.stats.inc_value(f"xxgk/refused/{reason}")
        )
        if self.portal.js:
            settings.set("PLAYWRIGHT_ABORT_REQUEST", self.confinement.aborts_browser_request, priority="spider")
        self.options: dict[str, Any] = dict(self.portal.options or {})
        self.outcome = PortalOutcome()
        self.page_budget = settings.getint("XXGK_MAX_PAGES_PER_PORTAL", 600)
        self.hub_depth = settings.getint("XXGK_HUB_DEPTH", 3)
        self.zip_limits = {
            "max_members": settings.getint("XXGK_ZIP_MAX_MEMBERS", 50),
            # Unpacked, a zip may hold at most what two downloads could: a bomb stops at the limit.
            "max_total": settings.getint("XXGK_ZIP_MAX_TOTAL") or 2 * settings.getint("DOWNLOAD_MAXSIZE"),
        }
        self.requested_pages: set[str] = set()  # listing/navigation requests of this crawl
        self.handled_documents: set[str] = set()  # document URLs requested in this crawl
        self.session = CrawlSession.of(self.crawler)
        self.full_walk = self.session.needs_full_walk(self.portal.id)
        start = self.session.start_url(self.portal)  # a column found from the home page (self-healing listings)
        if start != self.portal.start_url:
            self.portal = replace(self.portal, start_url=start)

    # --- agencies ---------------------------------------------------------------------------------------
    def resolve_agency(self, name: str | None) -> str | None:
        """The registry's name for an agency a title names ("大渡口区人防办" → "重庆市大渡口区人民防空办公室");
        the title's own name when the registry has none; the portal's own government when the title names
        no agency at all (a bare "2023年政府信息公开工作年度报告" in a government's column)."""
        agencies = self.portal.agencies
        if not name:
            governments = [a for a in agencies if a.kind == "government"]
            if len(agencies) == 1:
                return agencies[0].name
            return governments[0].name if len(governments) == 1 else None
        short = _short(name)
        for a in agencies:
            if a.name == name or _short(a.name) == short:
                return a.name
        for a in agencies:
            s = _short(a.name)
            if s.endswith(short) or short.endswith(s):
                return a.name
        return name

    def agency_kind(self, name: str | None) -> str | None:
        return next((a.kind for a in self.portal.agencies if a.name == name), None)

    # --- requests ---------------------------------------------------------------------------------------
    async def start(self):
        meta = {"xxgk_start": True}
        if self.start_role == "column":
            meta["xxgk_column_root"] = pages.folder(self.portal.start_url)
        req = self.listing_request(self.portal.start_url, role=self.start_role, meta=meta)
        if req is not None:
            yield req

    def listing_request(
        self, url: str, *, role: str = "column", depth: int = 0, callback=None, js: bool | None = None, **kwargs
    ) -> Request | None:
        """A list/navigation page (not a document), once per crawl. Pages beyond the portal's budget are not
        requested (every page of a portal links the same navigation: only new pages count)."""
        key = f"{kwargs.get('method', 'GET')} {url} {kwargs.get('body', '')}"
        if key in self.requested_pages:
            return None
        if len(self.requested_pages) >= self.page_budget:
            self.crawler.stats.inc_value("xxgk/page_budget_exhausted")
            self.outcome.budget_exhausted = True
            return None
        self.requested_pages.add(key)
        meta = {"xxgk_role": role, "xxgk_depth": depth, **kwargs.pop("meta", {})}
        if (self.portal.js if js is None else js) and kwargs.get("method", "GET") == "GET":
            # Confined page; "load", then networkidle for a bounded time (a page that streams forever still renders).
            meta["playwright"] = True
            meta["playwright_page_init_callback"] = self.browser_gate.confine_page
            meta["playwright_page_goto_kwargs"] = {"wait_until": "load"}
            meta["playwright_page_methods"] = [PageMethod(settle)]
        return Request(url, callback=callback or self.parse_listing, errback=self.request_failed, meta=meta, **kwargs)

    def document_request(self, url: str, callback, **meta) -> Request | None:
        """A document (report page or attachment), deduplicated here rather than by Scrapy's filter so that
        every request gets an answer in its callback or errback (a redirect loop must not vanish silently)."""
        if url in self.handled_documents:
            return None
        self.handled_documents.add(url)
        decision = self.session.freshness.decide(url)
        if decision.skip:
            # Archived and not due for a recheck: not even scheduled (a re-crawl of an unchanged portal then
            # costs its list pages only).
            self.outcome.known_skipped += 1
            self.crawler.stats.inc_value("xxgk/documents_known_skipped")
            return None
        return Request(
            url,
            callback=callback,
            errback=self.request_failed,
            dont_filter=True,
            headers=decision.headers or None,
            meta={"xxgk_document": True, "xxgk_conditional": decision.conditional, **meta},
        )

    def request_failed(self, failure) -> Iterator[Any]:
        request = failure.request
        role = request.meta.get("xxgk_role", "document")
        if is_skip(failure):
            self.outcome.known_skipped += 1
            self._mark_known_key(request)
            if failure.check(UnchangedDocument):
                yield SeenItem(self.portal.id, request.url)
        else:
            url = (request.meta.get("redirect_urls") or [request.url])[0]
            reason, detail = failure_reason(failure)
            status = getattr(getattr(failure.value, "response", None), "status", None)
            if request.meta.get("xxgk_document") and status in GONE_STATUSES and self.session.is_archived(url):
                yield GoneItem(self.portal.id, url, status)
            self.outcome.fail(url, reason, detail, role)
            self.crawler.stats.inc_value(f"xxgk/failed/{reason}")
            logger.warning("%s %s failed: %s %s", role, url, reason, detail)
            chain = request.meta.get("xxgk_chain")
            if chain is not None:
                chain.failed = True
        chain = request.meta.get("xxgk_chain")
        if chain is not None:
            yield from self.continue_chain(chain)

    def _mark_known_key(self, request: Request) -> None:
        """An attachment the archive already holds stands for its report: later renditions are not parsed."""
        chain, task = request.meta.get("xxgk_chain"), request.meta.get("xxgk_task")
        if chain is not None and task is not None:
            chain.done_keys.add(task.key)

    # --- listings ---------------------------------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[Any]:
        self.outcome.listings_ok += 1
        self.crawler.stats.inc_value("xxgk/pages")
        sel = pages.selector(response)
        if (
            response.meta.get("xxgk_start")
            and response.url not in self.handled_documents
            and not self.session.is_archived(response.url)
        ):
            # `xxgk crawl --url` may start from a report page itself: archive it, then look around from it.
            self.handled_documents.add(response.url)
            yield from self.report_page(response, sel, Entry(response.url, ""), strict=True)
        page_links = pages.links(sel, response.url)
        found = yield from self.follow_entries(self.entries(response, sel, page_links), response.url)
        yield from self.more_listings(response, sel, page_links, found)

    def entries(self, response: Response, sel, page_links: list[Link]) -> list[Link]:
        """The list's entries; families whose list is not plain links override this."""
        return page_links

    def more_listings(self, response: Response, sel, page_links: list[Link], found: int) -> Iterator[Request]:
        """Sub-columns (by name, or by place: lists in the column's own folder, such as one per department) and
        pagination."""
        depth = response.meta.get("xxgk_depth", 0)
        for link in page_links:
            if is_column_link(link.text, link.url):
                req = self.listing_request(
                    link.url, role="column", depth=depth, meta={"xxgk_column_root": pages.folder(link.url)}
                )
                if req is not None:
                    yield req
        yield from self.sub_listings(response, page_links)
        yield from self.next_pages(response, sel, page_links, found)

    def sub_listings(self, response: Response, page_links: list[Link]) -> Iterator[Request]:
        root = response.meta.get("xxgk_column_root")
        level = response.meta.get("xxgk_sublevel", 0)
        if root is None or level >= 2:
            return
        for url in pages.sub_listings(page_links, root, response.url):
            req = self.listing_request(
                url,
                role="column",
                depth=response.meta.get("xxgk_depth", 0),
                meta={"xxgk_column_root": root, "xxgk_sublevel": level + 1},
            )
            if req is not None:
                yield req

    def next_pages(self, response: Response, sel, page_links: list[Link], found: int) -> Iterator[Request]:
        """The list's next page(s), followed only from a page that listed something to fetch: a list claiming
        100000 pages costs one empty page, and an unchanged list costs its first page."""
        if not found:
            return  # nothing on this page to fetch: a list that has nothing new (or no end) stops here
        script = " ".join(sel.xpath("//script/text()").getall())
        following = pages.trs_next_page(script, response.url)
        urls = [following] if following else pages.link_pages(page_links, response.url)
        depth = response.meta.get("xxgk_depth", 0)
        root = response.meta.get("xxgk_column_root")
        for url in urls:
            req = self.listing_request(
                url, role="column", depth=depth + 1, meta={"xxgk_paged": True, "xxgk_column_root": root}
            )
            if req is not None:
                yield req

    def follow_entries(self, entries: list[Link], listing_url: str) -> Iterator[Request]:
        """Report requests for entries titled as reports (or cut short, or a year folder). Returns how many
        entries call for the next list page: those requested (new to the archive, or due for a recheck), so that
        a list page whose entries are all archived and fresh ends the walk (lists run newest first; an entry
        inserted further down is met at the next recheck, with the publication date its own page gives)."""
        requested = listed = 0
        seen: list[tuple[str, str]] = []
        for link in entries:
            title = report_title(link.text)
            if title is None and not (maybe_report_title(link.text) or is_year_folder(link.text)):
                continue
            if title is not None:
                seen.append((link.url, link.text))
            listed += link.url not in self.handled_documents
            entry = Entry(link.url, link.text, link.date, listing_url, title)
            req = self.document_request(link.url, self.parse_report, xxgk_role="report", xxgk_entry=entry)
            if req is not None:
                requested += 1
                yield req
        if seen:
            yield self.listed(listing_url, seen)
        # After a crawl that did not finish (killed, a portal down), every list page is walked again: its
        # later pages may hold reports the archive has not seen although the first page is all known.
        return listed if self.full_walk else requested

    def listed(self, listing_url: str, entries: list[tuple[str, str]]) -> ListedItem:
        """The report entries a list page showed; the page is one of the walked listing's (proof of absence)."""
        if listing_url not in self.outcome.listing_pages:
            self.outcome.listing_pages.append(listing_url)
        return ListedItem(self.portal.id, listing_url, entries)

    # --- report pages -----------------------------------------------------------------------------------
    def parse_report(self, response: Response) -> Iterator[Any]:
        entry: Entry = response.meta["xxgk_entry"]
        if sniff(response.body) != "html":
            self.downloaded()
            # The list linked the file itself.
            published = self.published_for(entry, response, None, entry.title)
            context = Context(response.url, entry.title, self._agency_of(entry.title), published)
            chain = Chain(context, [], None, inline=False)
            yield from self.document_items(self.fetched(response), context, entry.title, ingest=True, chain=chain)
            return
        sel = pages.selector(response)
        if (yield from self.report_page(response, sel, entry)):
            return
        # Not a report page: a per-year folder or a sub-list, read as a listing.
        page_links = pages.links(sel, response.url)
        if any(report_title(link.text) for link in page_links):
            self.outcome.listings_ok += 1
            found = yield from self.follow_entries(page_links, response.url)
            yield from self.next_pages(response, sel, page_links, found)
        else:
            self.crawler.stats.inc_value("xxgk/pages_not_report")

    def report_page(self, response: Response, sel, entry: Entry, *, strict: bool = False) -> Iterator[Any]:
        """Items and attachment requests for a report page; returns False when the page is not one. `strict`
        (a start page) also wants the page to hold the report or link it, not just to be titled like one."""
        title = self.page_title(sel, entry)
        if strict and title is None:
            return False  # most start pages: a home page or a list, not worth reading further
        text = pages.body_text(sel)
        inline = pages.is_inline_report(text)
        attached = pages.attachments(sel, response.url)
        pictures = [] if attached or title is None else self.content_pictures(response)
        if pictures:
            inline, attached = True, pictures  # 图片版: the tables are images, archived with the page
        if (title is None and not inline) or (strict and not (title and (inline or attached))):
            return False
        fetched = self.fetched(response)
        page_dates = self.page_dates(sel, text, response)
        published = self.published_for(entry, response, page_dates, title)
        context = Context(response.url, title, self._agency_of(title), published)
        if inline:
            self.downloaded()
            page_item: ReportItem | DocumentItem = self.report_item(fetched, context, title)
        else:
            self.crawler.stats.inc_value("xxgk/pages")
            page_item = DocumentItem(fetched, role="page")
        tasks = self.plan_attachments(attached, context, inline)
        yield from self.continue_chain(Chain(context, tasks, page_item, inline))
        return True

    def content_pictures(self, response: Response) -> list[Link]:
        """A report page's content images, when it links no report file and its body prints no table: its
        tables are pictures (图片版). Only the article body's images, at most MAX_PICTURES; they are fetched like
        attachments (the portal's confinement, the download size limit) and archived as documents of the
        report before the page, which the parse reads with them by OCR (crawler.parsing.readers.html)."""
        from crawler.parsing.readers.html import content_images

        return [Link(url, "正文图片") for url in content_images(response.body, response.url)[:MAX_PICTURES]]

    def downloaded(self) -> None:
        """A document (report or attachment) came over the wire; pages that only link one are not counted."""
        self.crawler.stats.inc_value("xxgk/documents_downloaded")

    def page_title(self, sel, entry: Entry) -> ReportTitle | None:
        for text in pages.title_candidates(sel):
            t = report_title(text)
            if t:
                return t
        return entry.title

    def _agency_of(self, title: ReportTitle | None) -> str | None:
        return self.resolve_agency(title.agency if title else None)

    def page_dates(self, sel, text: str, response: Response) -> dict[str, Any]:
        # The visible date sits in the page head; the report's own text has its 落款 date further down.
        return {
            "page_meta": dates.meta_date(pages.meta_tags(sel)),
            "visible": dates.visible_date(text[:4000]),
            "url": dates.url_date(response.url),
        }

    def published_for(
        self, entry: Entry, response: Response, page_dates: dict[str, Any] | None, title: ReportTitle | None
    ) -> dates.Published:
        page_dates = page_dates or {}
        url = page_dates.get("url") or (None, False)
        if url[0] is None:
            url = dates.url_date(response.url)
        if url[0] is None and entry.url != response.url:
            url = dates.url_date(entry.url)
        return dates.choose(
            page_meta=page_dates.get("page_meta"),
            visible=page_dates.get("visible"),
            listing=dates.parse_date(entry.date),
            url=url,
            last_modified=dates.http_date(_header(response, "Last-Modified")),
            report_year=title.year if title else None,
        )

    def plan_attachments(self, links: list[Link], context: Context, inline: bool) -> list[Task]:
        """One task per attachment, renditions of the same report ordered by the format readers handle best."""
        tasks = []
        for link in links:
            t = report_title(link.text) or report_title(link.url.rsplit("/", 1)[-1])
            agency = self.resolve_agency(t.agency) if t and t.agency else context.agency
            year = t.year if t else (context.title.year if context.title else None)
            tasks.append(Task(link, (agency, year), t))
        return sorted(tasks, key=lambda task: FORMAT_PREFERENCE.get(_extension(task.link.url), 9))

    def continue_chain(self, chain: Chain) -> Iterator[Any]:
        while chain.tasks:
            task = chain.tasks.pop(0)
            req = self.document_request(
                task.link.url, self.parse_attachment, xxgk_role="attachment", xxgk_chain=chain, xxgk_task=task
            )
            if req is not None:
                yield req
                return
            if self.session.is_archived(task.link.url):
                chain.done_keys.add(task.key)  # archived before: it stands for its report, renditions stay renditions
        # Every attachment is done: now the page. A page whose attachments failed is not marked known
        # (unless it is itself the report), so the next crawl comes back for them.
        if chain.page_item is not None and (chain.inline or not chain.failed):
            if isinstance(chain.page_item, ReportItem):
                self.outcome.reports_found += 1
            chain.page_item.after = tuple(chain.emitted)  # the archive writes the page after them
            yield chain.page_item
            chain.page_item = None

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        chain: Chain = response.meta["xxgk_chain"]
        task: Task = response.meta["xxgk_task"]
        fetched = self.fetched(response)
        self.downloaded()
        ingest = not chain.inline and task.key not in chain.done_keys
        strong = pages.is_document_link(task.link)
        yield from self.document_items(
            fetched, chain.context, task.title, ingest=ingest, chain=chain, key=task.key, strong=strong
        )
        yield from self.continue_chain(chain)

    # --- documents --------------------------------------------------------------------------------------
    def document_items(
        self,
        fetched: IncomingDocument,
        context: Context,
        title: ReportTitle | None,
        *,
        ingest: bool,
        chain: Chain,
        key: tuple | None = None,
        strong: bool = True,
    ) -> Iterator[Any]:
        """Items for one fetched document: a zip's report members, the report itself, or a rendition.
        An attachment recognised only by its link text ("报告全文") must be a document to count as the
        report; one linked as a file (.pdf, 2015年报告.pdf) is archived as the report whatever it turns
        out to be, so a broken link is on record with its parse failure."""
        fmt = sniff(fetched.data)
        if fmt == "zip":
            for item in self.zip_items(fetched, context, title, chain):
                chain.emitted.append(item.document.url)
                yield item
            return
        chain.emitted.append(fetched.url)
        if ingest and (strong or fmt in REPORT_FORMATS):
            if key is not None:
                chain.done_keys.add(key)
            self.outcome.reports_found += 1
            yield self.report_item(fetched, context, title)
        else:
            yield DocumentItem(fetched, role="rendition")

    def zip_items(self, fetched: IncomingDocument, context: Context, title: ReportTitle | None, chain: Chain) -> Iterator[Any]:
        try:
            members = zip_members(fetched.data, **self.zip_limits)
        except UnsafeArchive as e:
            self.outcome.fail(
                fetched.url,
                "too_large" if "more than" in str(e) or "larger" in str(e) else "error",
                str(e),
                "attachment",
            )
            chain.failed = True
            logger.warning("zip %s refused: %s", fetched.url, e)
            return
        for m in members:
            t = report_title(m.name.rsplit("/", 1)[-1]) or title
            key = (self.resolve_agency(t.agency) if t and t.agency else context.agency, t.year if t else None)
            if chain.inline or key in chain.done_keys or m.format == "html":
                continue
            chain.done_keys.add(key)
            member = replace(fetched, url=f"{fetched.url}#{m.name}", data=m.data, http=replace(fetched.http, content_type=None))
            self.outcome.reports_found += 1
            yield self.report_item(member, context, t)
        yield DocumentItem(fetched, role="zip")

    def report_item(self, fetched: IncomingDocument, context: Context, title: ReportTitle | None) -> ReportItem:
        title = title or context.title
        agency = self.resolve_agency(title.agency) if title and title.agency else context.agency
        published = context.published
        if published.source == "first_seen" and fetched.url != context.page_url:
            # The page gave no date: the attachment's own URL or Last-Modified may.
            published = dates.choose(
                url=dates.url_date(fetched.url),
                last_modified=dates.http_date(fetched.http.last_modified),
                report_year=title.year if title else None,
            )
        document = replace(
            fetched,
            page_url=context.page_url,
            title=title.title if title else None,
            agency=agency,
            year=title.year if title else None,
            published_at=published.at,
            published_source=published.source,
            kind=self.agency_kind(agency),
        )
        return ReportItem(document, published_candidates=published.candidates)

    def fetched(self, response: Response) -> IncomingDocument:
        """A downloaded document of this portal, before anything is known of what it holds."""
        return IncomingDocument(
            response.body,
            url=response.url,
            http=HttpMeta(
                content_type=_header(response, "Content-Type"),
                status=response.status,
                etag=_header(response, "ETag"),
                last_modified=_header(response, "Last-Modified"),
            ),
            portal_id=self.portal.id,
        )

    # --- the end ----------------------------------------------------------------------------------------
    def closed(self, reason: str) -> None:
        logger.info(
            "portal %s: %s (%d listing pages, %d reports, %d known, %d failures)",
            self.portal.id,
            self.outcome.status,
            self.outcome.listings_ok,
            self.outcome.reports_found,
            self.outcome.known_skipped,
            len(self.outcome.failures),
        )


def _registry_portal(settings, portal_id: str) -> Portal:
    return load_registry(settings.get("XXGK_REGISTRY")).portal(portal_id)


def _short(name: str) -> str:
    """Compare agency names in their common short forms (人民防空办公室 → 人防办, 人民政府 → 政府)."""
    for long, short in (("人民防空办公室", "人防办"), ("人民政府", "政府"), ("办公室", "办")):
        name = name.replace(long, short)
    return name


def _extension(url: str) -> str:
    tail = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None

