"""Hanweb 大汉 JCMS (Zhejiang, Jiangsu, Shandong, many ministries) and its JPAAS variant.

The column page `/col/col<columnid>/index.html` has no list an HTML parser can see: the entries are CDATA
records inside `<script type="text/xml"><datastore>…</datastore></script>`, and jpage.js draws them. Records past
the first group come from a POST to `/module/web/jpage/dataproxy.jsp?startrecord=S&endrecord=E&perpage=P`
(older sites: `/module/jslib/jquery/jpage/dataproxy.jsp`) with the column's ids in the form; the answer is the
same `<datastore>` XML. The ids come from the `<nextgroup>` link, the `param_<unitid>` object or the registry's
`options` (webid, columnid, unitid, webname, proxy, perpage).

A portal on it is a few lines of registry YAML (`cms: hanweb`); spiders.loader builds its spider from
HanwebSpider.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from parsel import Selector
from scrapy.http import Request, Response

from spiders.base import pages
from spiders.base.pages import Link
from spiders.base.report import ReportSpider

_DATASTORE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PERPAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)|<perpage>\s*(\d+)", re.I)
_PARAM = re.compile(r"var\s+param_\w+\s*=\s*\{([^}]*)\}")
_PAIR = re.compile(r"(\w+)\s*:\s*['\"]?([^,'\"}]*)['\"]?")
_ITEM_ARRAY = re.compile(r"var\s+itemObj\s*=\s*(\[.*?\])\s*;", re.S)
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
GROUP_PAGES = 3  # jpage fetches three pages' worth of records per call


def has_datastore(text: str) -> bool:
    return bool(_DATASTORE.search(text))


def datastore_links(text: str, base: str) -> list[Link]:
    """The entries hidden in the datastore's CDATA records (and in a JS `itemObj` array)."""
    out: list[Link] = []
    for store in _DATASTORE.findall(text):
        for record in _RECORD.findall(store):
            out += [link for link in pages.links(Selector(text=record), base) if "/module/" not in link.url]
    m = _ITEM_ARRAY.search(text)
    if m:
        try:
            items = json.loads(m.group(1))
        except ValueError:
            items = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("aU"):
                out.append(Link(urljoin(base, item["aU"]), str(item.get("aT") or ""), item.get("aPd")))
    return out


def record_count(text: str) -> int:
    return sum(len(_RECORD.findall(store)) for store in _DATASTORE.findall(text))


def proxy_params(text: str, url: str, options: dict) -> tuple[str, dict[str, str], int, int | None] | None:
    """(proxy URL, form fields, records per page, total records or None), or None when the page names no
    column to page through."""
    form = {
        "col": "1",
        "appid": "1",
        "webid": "",
        "path": "/",
        "columnid": "",
        "sourceContentType": "1",
        "unitid": "",
        "webname": "",
        "permissiontype": "0",
    }
    proxy = options.get("proxy") or DEFAULT_PROXY
    m = _NEXTGROUP.search(text)
    if m:
        href = Selector(text=m.group(1)).xpath("//a/@href").get() or ""
        href = html.unescape(href)
        if href:
            proxy = urlsplit(href).path or proxy
            for k, v in parse_qs(urlsplit(href).query).items():
                if k in form:
                    form[k] = v[0]
    for block in _PARAM.findall(text):
        for k, v in _PAIR.findall(block):
            if k in form and v:
                form[k] = v
    for k in ("webid", "columnid", "unitid", "webname", "appid"):
        if options.get(k):
            form[k] = str(options[k])
    if not form["columnid"]:
        col = re.search(r"/col/col(\d+)/", url)
        form["columnid"] = col.group(1) if col else ""
    if not form["columnid"]:
        return None
    per = _PERPAGE.search(text)
    perpage = int(options.get("perpage") or (per and (per.group(1) or per.group(2))) or 15)
    total = _TOTAL.search(text)
    total_records = int(total.group(1) or total.group(2)) if total else None
    return urljoin(url, proxy), form, perpage, total_records


def dataproxy_request(spider: ReportSpider, response: Response, params, start: int) -> Request | None:
    proxy, form, perpage, total = params
    if total is not None and start > total:
        return None
    end = start + GROUP_PAGES * perpage - 1
    if total is not None:
        end = min(end, total)
    url = f"{proxy}?{urlencode({'startrecord': start, 'endrecord': end, 'perpage': perpage})}"
    column_url = response.meta.get("xxgk_column_url", response.url)
    return spider.listing_request(
        url,
        role="column",
        depth=response.meta.get("xxgk_depth", 0) + 1,
        callback=spider.parse_dataproxy,
        js=False,
        method="POST",
        body=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            "Referer": column_url,
            "X-Requested-With": "XMLHttpRequest",
        },
        meta={"xxgk_proxy": params, "xxgk_startrecord": start, "xxgk_column_url": column_url},
    )


class HanwebPaging:
    """Reading a Hanweb list (datastore records, dataproxy groups), for any spider whose pages may carry one."""

    def entries(self, response: Response, sel, page_links: list[Link]) -> list[Link]:
        return datastore_links(response.text, response.url) + page_links

    def next_pages(self, response: Response, sel, page_links: list[Link], found: int) -> Iterator[Request]:
        if not has_datastore(response.text):
            yield from super().next_pages(response, sel, page_links, found)
            return
        params = proxy_params(response.text, response.url, self.options)
        seen = record_count(response.text)
        if found and params is not None and (params[3] is None or seen < params[3]):
            req = dataproxy_request(self, response, params, seen + 1)
            if req is not None:
                yield req

    def parse_dataproxy(self, response: Response) -> Iterator[Request]:
        """A dataproxy answer: more records, and the next group while the column has more."""
        self.outcome.listings_ok += 1
        self.crawler.stats.inc_value("xxgk/pages")
        column_url = response.meta["xxgk_column_url"]
        links = datastore_links(response.text, column_url)
        found = yield from self.follow_entries(links, column_url)
        proxy, form, perpage, total = response.meta["xxgk_proxy"]
        answered = _TOTAL.search(response.text)
        total = int(answered.group(1) or answered.group(2)) if answered else total
        start = response.meta["xxgk_startrecord"]
        if found and links and (total is None or start + len(links) <= total):
            req = dataproxy_request(self, response, (proxy, form, perpage, total), start + len(links))
            if req is not None:
                yield req


class HanwebSpider(HanwebPaging, ReportSpider):
    """The hanweb family's base."""


BASE = HanwebSpider  # the family's base class, for spiders.loader
