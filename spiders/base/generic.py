"""The generic spider: any portal, from its home page or its 信息公开 page.

It walks toward the annual-report column by link text (政府信息公开 → 政府信息公开年报 / 年度报告 / 公开年报 …, or the
column slugs zfxxgknb, xxgknb, gknb, ndbg …), at most XXGK_HUB_DEPTH hops, and recognises report pages by their
title (`YYYY年(度)…政府信息公开(工作)年(度)报(告)`). On any list it meets it follows the pagination it can
detect: TRS `createPageHTML`/`index_N`, Hanweb datastore + dataproxy, the Fujian search API, 下一页 and page
numbers. Sub-columns (部门年报, 乡镇年报) and year folders (2023年度) are followed too.

`UrlSpider` is the same spider for a portal that is not in the registry (`xxgk crawl --url URL --agency NAME
--kind KIND`, or `scrapy crawl generic -a url=URL -a agency=NAME -a kind=KIND`): it stays on the start URL's
registrable domain.
"""

from __future__ import annotations

from collections.abc import Iterator

from scrapy.http import Request, Response

from crawler.registry import portal_for_url
from spiders.base import pages
from spiders.base.fujian import FujianPaging
from spiders.base.hanweb import HanwebPaging
from spiders.base.pages import Link
from spiders.base.report import ReportSpider
from spiders.base.titles import is_column_link, is_hub_link, report_title


class GenericSpider(HanwebPaging, FujianPaging, ReportSpider):
    """Any CMS: Hanweb's datastore and the Fujian API are detected on the page, TRS pagination and links by the
    base."""

    start_role = "hub"

    def more_listings(self, response: Response, sel, page_links: list[Link], found: int) -> Iterator[Request]:
        role = response.meta.get("xxgk_role", "hub")
        depth = response.meta.get("xxgk_depth", 0)
        for link in page_links:
            if is_column_link(link.text, link.url):
                req = self.listing_request(
                    link.url, role="column", depth=depth, meta={"xxgk_column_root": pages.folder(link.url)}
                )
            elif role == "hub" and depth < self.hub_depth and is_hub_link(link.text, link.url):
                req = self.listing_request(link.url, role="hub", depth=depth + 1)
            else:
                continue
            if req is not None:
                yield req
        if found and response.meta.get("xxgk_start"):
            response.meta.setdefault("xxgk_column_root", pages.folder(response.url))  # started on the column itself
        yield from self.sub_listings(response, page_links)
        if role in ("column", "listing") or found or any(report_title(link.text) for link in page_links):
            yield from self.next_pages(response, sel, page_links, found)


class UrlSpider(GenericSpider):
    name = "generic"

    def __init__(
        self, url: str | None = None, agency: str | None = None, kind: str = "government", js: str = "", **kwargs
    ):
        super().__init__(**kwargs)
        if not url or not agency:
            raise ValueError("the generic spider needs url=… and agency=… (and kind=department|government)")
        portal = portal_for_url(url, agency, kind)
        if js.lower() in ("1", "true", "yes"):
            from dataclasses import replace

            portal = replace(portal, js=True)
        self.portal = portal
        self.name = portal.id


BASE = GenericSpider  # the family's base class, for spiders.loader
