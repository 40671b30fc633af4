"""The Fujian provincial intensive platform (TRS + the avalon "trt" UI).

The column (`/zwgk/zfxxgk/zfxxgknb/`) serves its first page static (`maxStaticIndex: 1`); every later page
exists only in the site search API, which the page's `require(["list2.trsapi"])` script calls:
POST `/fjdzapp/search` with `channelid`, `classsql=chnlid=<column>`, `page`, `prepage`. The answer is JSON,
`{"data": [{"doctitle", "docpuburl" | "chnldocurl", "docreltime"}], "pagecount": N, "recordCount": M}`.
A crawler that reads only the static HTML sees the first 10 of 20 reports.

Registry `options` may name what the page does not: api, channelid, chnlid, prepage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urlencode, urljoin
from zoneinfo import ZoneInfo

from scrapy.http import Request, Response

from spiders.base import dates
from spiders.base.pages import Link
from spiders.base.report import ReportSpider

_API_URL = re.compile(r"""['"]([^'"\s]*/fjdzapp/search[^'"\s]*)['"]""")
_CHANNEL = re.compile(r"channelid\s*[:=]\s*['\"]?(\d+)", re.I)
_CLASSSQL = re.compile(r"classsql\s*[:=]\s*['\"]([^'\"]+)['\"]", re.I)
_CHNLID = re.compile(r"\bchnlid\s*[:=]\s*['\"]?(\d+)", re.I)
_PREPAGE = re.compile(r"\b(?:prepage|pageSize|pagesize)\s*[:=]\s*['\"]?(\d+)", re.I)
_RECORDS = re.compile(r"recordCount\s*[:=]\s*['\"]?(\d+)", re.I)
_MARK = re.compile(r"trsapi|fjdzapp", re.I)
DEFAULT_API = "/fjdzapp/search"
DEFAULT_CHANNEL = "200210"  # the site-wide document library channel


def api_config(text: str, url: str, options: dict) -> dict | None:
    """The search API a column page calls, or None when the page does not call one."""
    if not (_MARK.search(text) or options.get("api")):
        return None
    api = options.get("api") or (_API_URL.search(text).group(1) if _API_URL.search(text) else DEFAULT_API)
    classsql = _CLASSSQL.search(text)
    chnlid = options.get("chnlid") or (_CHNLID.search(text).group(1) if _CHNLID.search(text) else None)
    channel = options.get("channelid") or (_CHANNEL.search(text).group(1) if _CHANNEL.search(text) else DEFAULT_CHANNEL)
    prepage = int(options.get("prepage") or (_PREPAGE.search(text).group(1) if _PREPAGE.search(text) else 10))
    records = _RECORDS.search(text)
    where = classsql.group(1) if classsql else (f"chnlid={chnlid}" if chnlid else None)
    if where is None:
        return None
    form = {
        "channelid": str(channel),
        "sortfield": "-docorderpri,-docreltime",
        "classsql": where,
        "classcol": "publishyear",
        "classnum": "100",
        "classsort": "0",
        "cache": "true",
        "prepage": str(prepage),
    }
    return {
        "url": urljoin(url, api),
        "form": form,
        "prepage": prepage,
        "records": int(records.group(1)) if records else None,
    }


def api_request(spider: ReportSpider, response: Response, config: dict, page: int) -> Request | None:
    column_url = response.meta.get("xxgk_column_url", response.url)
    return spider.listing_request(
        config["url"],
        role="api",
        depth=response.meta.get("xxgk_depth", 0) + 1,
        callback=spider.parse_search,
        js=False,
        method="POST",
        body=urlencode({**config["form"], "page": str(page)}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "Referer": column_url,
            "X-Requested-With": "XMLHttpRequest",
        },
        meta={"xxgk_api": config, "xxgk_page": page, "xxgk_column_url": column_url},
        dont_filter=True,  # the same URL with another page in the body
    )


def _docs(payload) -> list[dict]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict):
        data = data.get("docs") or data.get("list") or data.get("data")
    docs = (
        data
        if isinstance(data, list)
        else (payload.get("docs") or payload.get("list") if isinstance(payload, dict) else None)
    )
    return [d for d in docs or [] if isinstance(d, dict)]


_BEIJING = ZoneInfo("Asia/Shanghai")


def _date(value) -> str | None:
    """An ISO date from the API's time field: epoch milliseconds (a date in Beijing, where the portal publishes),
    or text such as "2026-03-30 15:20:11"."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit() and len(value) >= 12):
        return datetime.fromtimestamp(int(value) / 1000, _BEIJING).date().isoformat()
    parsed = dates.parse_date(str(value)) if value else None
    return parsed.isoformat() if parsed else None


def search_links(payload, base: str) -> list[Link]:
    out = []
    for d in _docs(payload):
        url = d.get("docpuburl") or d.get("chnldocurl") or d.get("url") or d.get("docurl")
        if url:
            title = d.get("doctitle") or d.get("title") or d.get("docpeople") or ""
            out.append(
                Link(urljoin(base, url), str(title), _date(d.get("docreltime") or d.get("pubtime") or d.get("time")))
            )
    return out


class FujianPaging:
    """Reading a list of the Fujian platform (static first page, the rest from its search API)."""

    def next_pages(self, response: Response, sel, page_links: list[Link], found: int) -> Iterator[Request]:
        config = api_config(response.text, response.url, self.options)
        if config is None:
            yield from super().next_pages(response, sel, page_links, found)
            return
        # Page 1 again from the API too (a static page may lag behind the library), unless the static page
        # showed nothing to fetch: then the list is unchanged.
        req = api_request(self, response, config, 1) if found else None
        if req is not None:
            yield req

    def parse_search(self, response: Response) -> Iterator[Request]:
        self.outcome.listings_ok += 1
        self.crawler.stats.inc_value("xxgk/pages")
        column_url = response.meta["xxgk_column_url"]
        try:
            payload = json.loads(response.text)
        except ValueError:
            self.outcome.fail(response.url, "error", "search API answered something other than JSON", "api")
            return
        links = search_links(payload, column_url)
        found = yield from self.follow_entries(links, column_url)
        config, page = response.meta["xxgk_api"], response.meta["xxgk_page"]
        pagecount = (
            payload.get("pagecount") or payload.get("pageCount") or payload.get("totalPage")
            if isinstance(payload, dict)
            else None
        )
        more = (int(pagecount) > page) if pagecount else len(links) >= config["prepage"]
        if more and (found or page == 1):
            req = api_request(self, response, config, page + 1)
            if req is not None:
                yield req


class FujianSpider(FujianPaging, ReportSpider):
    """The fujian family's base."""


BASE = FujianSpider  # the family's base class, for spiders.loader
