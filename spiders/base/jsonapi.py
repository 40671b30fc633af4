"""Portals that answer JSON (newer "jpaas"/Vue sites, e.g. 济南's 文件库 `do-search`).

The list is an XHR: `{success, data: {infoCount, bean: {results: [{infoid, title, publishdate, …}]}}}`; an entry
either links an HTML page (`url`) or only has an id whose body comes from a second call (`front/info/detail?iid=`),
`{data: {title, content: "<p>…</p>", publishdate, attachments: [{name, url}]}}`. The detail's HTML content is
archived as an HTML document with its title and date in the head, so the report parses like any page.

Everything is set in the registry's `options` (defaults fit the jpaas shape):

    options:
      list_url: /api-gateway/jpaas-jpolicy-web-server/front/info/do-search
      method: POST              # or GET
      body: json                # or form; GET sends params in the query
      params: {pageNo: "{page}", pageSize: "{size}", keywords: ""}
      page_size: 10
      results: data.bean.results
      total: data.infoCount
      fields: {title: title, date: publishdate, url: url, id: infoid}
      detail_url: /api-gateway/jpaas-jpolicy-web-server/front/info/detail?iid={id}
      detail: {title: data.title, content: data.content, date: data.publishdate, attachments: data.attachments}
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urljoin

from scrapy.http import Request, Response

from crawler.crawl.items import DocumentItem
from spiders.base import dates, pages
from spiders.base.pages import Link
from spiders.base.report import Chain, Context, Entry, ReportSpider, Task
from spiders.base.titles import maybe_report_title, report_title

DEFAULTS: dict[str, Any] = {
    "method": "POST",
    "body": "json",
    "params": {"pageNo": "{page}", "pageSize": "{size}"},
    "page_size": 10,
    "results": "data.bean.results",
    "total": "data.infoCount",
    "fields": {"title": "title", "date": "publishdate", "url": "url", "id": "infoid"},
    "detail": {
        "title": "data.title",
        "content": "data.content",
        "date": "data.publishdate",
        "attachments": "data.attachments",
    },
}


def dig(payload: Any, path: str | None) -> Any:
    """`data.bean.results` → payload["data"]["bean"]["results"]; None when any step is missing."""
    if not path:
        return None
    for step in path.split("."):
        if isinstance(payload, dict):
            payload = payload.get(step)
        elif isinstance(payload, list) and step.isdigit() and int(step) < len(payload):
            payload = payload[int(step)]
        else:
            return None
    return payload


def _fill(template: Any, **values: Any) -> Any:
    if isinstance(template, str):
        return template.format(**values) if "{" in template else template
    if isinstance(template, dict):
        return {k: _fill(v, **values) for k, v in template.items()}
    return template


class JsonApiSpider(ReportSpider):

    def setup(self, settings) -> None:
        super().setup(settings)
        self.api = {**DEFAULTS, **self.options}
        self.api["fields"] = {**DEFAULTS["fields"], **self.options.get("fields", {})}
        self.api["detail"] = {**DEFAULTS["detail"], **self.options.get("detail", {})}

    async def start(self):
        req = self.list_request(1, None)
        if req is not None:
            yield req

    def list_request(self, page: int, response: Response | None) -> Request | None:
        api = self.api
        url = urljoin(self.portal.start_url, api.get("list_url") or self.portal.start_url)
        params = _fill(api["params"], page=page, size=api["page_size"])
        kwargs: dict[str, Any] = {"method": api["method"].upper()}
        if kwargs["method"] == "GET":
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        elif api["body"] == "form":
            kwargs["body"] = urlencode(params)
            kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
        else:
            kwargs["body"] = json.dumps(params, ensure_ascii=False)
            kwargs["headers"] = {"Content-Type": "application/json;charset=UTF-8"}
        kwargs.setdefault("headers", {})["Referer"] = self.portal.start_url
        depth = response.meta.get("xxgk_depth", 0) + 1 if response is not None else 0
        return self.listing_request(
            url,
            role="api",
            depth=depth,
            callback=self.parse_api,
            js=False,
            dont_filter=True,
            meta={"xxgk_page": page},
            **kwargs,
        )

    def parse_api(self, response: Response) -> Iterator[Any]:
        self.outcome.listings_ok += 1
        self.crawler.stats.inc_value("xxgk/pages")
        try:
            payload = json.loads(response.text)
        except ValueError:
            self.outcome.fail(response.url, "error", "list API answered something other than JSON", "api")
            return
        fields = self.api["fields"]
        items = dig(payload, self.api["results"]) or []
        found = 0
        seen: list[tuple[str, str]] = []
        for item in items if isinstance(items, list) else []:
            title = str(dig(item, fields["title"]) or "")
            if report_title(title) is None and not maybe_report_title(title):
                continue
            date = dates.parse_date(str(dig(item, fields["date"]) or ""))
            link_date = date.isoformat() if date else None
            page_url = dig(item, fields["url"])
            if page_url:
                found += yield from self.follow_entries(
                    [Link(urljoin(self.portal.start_url, page_url), title, link_date)], self.portal.start_url
                )
                continue
            item_id = dig(item, fields["id"])
            if item_id is None or not self.api.get("detail_url"):
                continue
            detail = urljoin(self.portal.start_url, _fill(self.api["detail_url"], id=item_id))
            listed = detail not in self.handled_documents
            if report_title(title) is not None:
                seen.append((detail, title))
            entry = Entry(detail, title, link_date, self.portal.start_url, report_title(title))
            req = self.document_request(detail, self.parse_detail, xxgk_role="report", xxgk_entry=entry)
            found += listed if self.full_walk else req is not None  # as follow_entries counts
            if req is not None:
                yield req
        if seen:
            yield self.listed(self.portal.start_url, seen)  # the page a person reads, not the API
        page = response.meta["xxgk_page"]
        total = dig(payload, self.api["total"])
        more = (
            int(total) > page * int(self.api["page_size"])
            if str(total or "").isdigit()
            else len(items) >= int(self.api["page_size"])
        )
        if more and found:
            req = self.list_request(page + 1, response)
            if req is not None:
                yield req

    def parse_detail(self, response: Response) -> Iterator[Any]:
        """A report whose body is a JSON field: archived as an HTML document carrying the title and date."""
        entry: Entry = response.meta["xxgk_entry"]
        try:
            payload = json.loads(response.text)
        except ValueError:
            yield from self.parse_report(response)  # an HTML page after all
            return
        d = self.api["detail"]
        title_text = str(dig(payload, d["title"]) or entry.text)
        content = str(dig(payload, d["content"]) or "")
        date = dates.parse_date(str(dig(payload, d["date"]) or "")) or dates.parse_date(entry.date)
        title = report_title(title_text) or entry.title
        document = _as_html(title_text, content, date.isoformat() if date else None)
        raw = self.fetched(response)
        fetched = replace(raw, data=document, http=replace(raw.http, content_type="text/html; charset=utf-8"))
        published = dates.choose(
            page_meta=date, last_modified=dates.http_date(raw.http.last_modified), report_year=title.year if title else None
        )
        context = Context(response.url, title, self._agency_of(title), published)
        inline = pages.is_inline_report(html.unescape(content))
        links = []
        for att in dig(payload, d["attachments"]) or []:
            if isinstance(att, dict) and (att.get("url") or att.get("path")):
                links.append(
                    Link(
                        urljoin(response.url, att.get("url") or att.get("path")),
                        str(att.get("name") or att.get("title") or ""),
                    )
                )
        tasks: list[Task] = self.plan_attachments(links, context, inline)
        # Tables in the body: the body is the report. Otherwise the report is the attachment, the body is kept.
        if inline:
            self.downloaded()
        page_item = (
            self.report_item(fetched, context, title) if inline else DocumentItem(fetched, role="page")
        )
        yield from self.continue_chain(Chain(context, tasks, page_item, inline))


def _as_html(title: str, content: str, date: str | None) -> bytes:
    meta = f'<meta name="PubDate" content="{date}">' if date else ""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="ArticleTitle" content="{html.escape(title)}">{meta}</head>'
        f"<body><h1>{html.escape(title)}</h1>\n{content}\n</body></html>"
    ).encode()


BASE = JsonApiSpider  # the family's base class, for spiders.loader
