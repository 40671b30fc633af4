"""Chinese alert messages (Markdown), with every scraped string escaped.

Scraped text (agency names, titles, sentences quoted from a report, URLs) comes from web pages we
do not control: it is escaped so it cannot change a message's formatting (Markdown emphasis, links,
headings) or inject HTML, and a URL is linked only when it is plain http(s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from crawler.rules.deadline import REASON_TEXT, beijing
from storage.columns import ColumnMove

_MD_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MD_LINE_START = re.compile(r"^([#>+\-=]|\d+\.)", re.MULTILINE)
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"  # everything else (spaces, quotes, brackets, parentheses) is percent-encoded


def escape(text: object) -> str:
    """Scraped text as inert Markdown: one line, HTML entities, Markdown specials backslashed."""
    s = " ".join(str(text).split())
    s = s.translate(_HTML)
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_LINE_START.sub(r"\\\1", s)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL percent-encoded so it cannot break out of a Markdown link; None otherwise."""
    if not url:
        return None
    url = url.strip()
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return None
    return quote(url, safe=_URL_SAFE)


def link(label: str, url: str | None) -> str:
    target = safe_url(url)
    return f"[{label}]({target})" if target else "（无）"


@dataclass(frozen=True)
class Message:
    title: str
    body: str


_ORIGINAL = re.compile(r"^(?P<base>https?://[^#?]+?)/-/original/(?P<sha>[0-9a-f]{64})$")


def page_of(archived_url: str | None, anchor: str = "") -> str | None:
    """The newsroom page of the report an archived original belongs to, on the same xxgk serve as the link to
    the original (/-/report-of/<sha256> opens it): the journalist lands on the report and its finding, not on a
    file download. Built from the original's link, so it follows --public-url / XXGK_PUBLIC_URL like it."""
    m = _ORIGINAL.match(archived_url or "")
    return f"{m['base']}/-/report-of/{m['sha']}{anchor}" if m else None


def _deadlines_page(screenshot_urls: list[str], year: int) -> str | None:
    """The 逾期或未公开 page of the year, on the xxgk serve that holds the screenshots."""
    m = _ORIGINAL.match(screenshot_urls[0]) if screenshot_urls else None
    return f"{m['base']}/-/deadlines?year={year}" if m else None


def _page_link(label: str, url: str | None) -> str:
    """A link to a newsroom page, or nothing (the line is left out) when there is no page to link."""
    return link(label, url) if url else ""


def _lines(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"**{name}**：{value}" for name, value in fields if value)


def _subject(agency: str, year: int) -> str:
    return f"{escape(agency)}{year}年度政府信息公开工作年度报告"


# --- data: consistency -------------------------------------------------------------------------
def inconsistent(
    agency: str, year: int, rule_title: str, detail: str, source_url: str | None, archived_url: str | None
) -> Message:
    return Message(
        f"【数据不一致】{escape(agency)}{year}年度报告：{rule_title}",
        _lines(
            [
                ("报告", _subject(agency, year)),
                ("问题", escape(detail)),
                ("详情", _page_link("报告页面（标出对不上的数字）", page_of(archived_url, "#findings"))),
                ("原文", link("来源网页", source_url)),
                ("存档", link("存档原件", archived_url)),
            ]
        ),
    )


def corrected(
    agency: str, year: int, rule_title: str, detail: str, source_url: str | None, archived_url: str | None
) -> Message:
    return Message(
        f"【已更正】{escape(agency)}{year}年度报告：{rule_title}",
        _lines(
            [
                ("报告", _subject(agency, year)),
                ("现状", f"此前报告的不一致已不再存在：{escape(detail)}"),
                ("详情", _page_link("报告页面", page_of(archived_url, "#findings"))),
                ("原文", link("来源网页", source_url)),
                ("存档", link("存档原件（新版本）", archived_url)),
            ]
        ),
    )


# --- data: deadlines ---------------------------------------------------------------------------
_KIND = {
    "department": "政府部门，条例第四十九条：次年1月31日前",
    "government": "地方人民政府，条例第四十九条：次年3月31日前",
}


def _deadline_text(deadline: str, kind: str | None, override: bool) -> str:
    basis = "本地规定" if override else _KIND.get(kind or "", "")
    return f"{deadline}（{basis}）" if basis else deadline


def beijing_time(iso_utc: str | None) -> str | None:
    """A stored UTC timestamp as a journalist reads it: Beijing time, to the minute."""
    if not iso_utc:
        return None
    return beijing(iso_utc).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def _numbered(label: str, urls: list[str]) -> str:
    if len(urls) == 1:
        return link(label, urls[0])
    return "、".join(link(f"{label}第{i}页", u) for i, u in enumerate(urls, 1))


def _known_by(verified: bool, other_years: list[int]) -> str:
    said = []
    if verified:
        said.append("登记表已核实该栏目")
    if other_years:
        said.append("该栏目存有该机关" + "、".join(str(y) for y in other_years) + "年度的报告")
    return "；".join(said)


def missing(
    agency: str,
    year: int,
    deadline: str,
    kind: str | None,
    override: bool,
    today: str,
    days: int,
    listing_urls: list[str],
    screenshot_urls: list[str],
    checked_at: str | None,
    crawled_at: str | None = None,
    verified: bool = False,
    other_years: tuple[int, ...] | list[int] = (),
) -> Message:
    """An accusation: it says what it rests on (the complete crawl, why that listing is the agency's) and
    links every page of the walked listing and its screenshots."""
    crawl = (
        f"{beijing_time(crawled_at)}的采集完整走完年报栏目（共{len(listing_urls)}页），未见该报告" if crawled_at else ""
    )
    basis = "；".join(x for x in (crawl, _known_by(verified, list(other_years))) if x)
    checked = f"（截图时间：{beijing_time(checked_at)}）" if checked_at else ""
    return Message(
        f"【逾期未公开】{_subject(agency, year)}",
        _lines(
            [
                ("截止日期", _deadline_text(deadline, kind, override)),
                ("现状", f"截至{today}仍未找到该报告，已超过截止日期{days}天"),
                ("依据", basis),
                ("检查页面", (_numbered("年报栏目", listing_urls) + checked) if listing_urls else ""),
                ("页面截图", _numbered("检查时的截图", screenshot_urls) if screenshot_urls else ""),
                ("详情", _page_link("逾期或未公开一览", _deadlines_page(screenshot_urls, year))),
            ]
        ),
    )


def late(
    agency: str,
    year: int,
    deadline: str,
    kind: str | None,
    override: bool,
    published_at: str,
    date_source: str,
    days: int,
    was_missing: bool,
    source_url: str | None,
    archived_url: str | None,
) -> Message:
    head = "【已补发，逾期公开】" if was_missing else "【逾期公开】"
    return Message(
        f"{head}{_subject(agency, year)}",
        _lines(
            [
                ("截止日期", _deadline_text(deadline, kind, override)),
                (
                    "发布日期",
                    f"{published_at}（依据：{DATE_SOURCES.get(date_source, escape(date_source))}），逾期{days}天",
                ),
                ("说明", "此前提醒为“逾期未公开”，现已找到该报告" if was_missing else ""),
                ("详情", _page_link("报告页面", page_of(archived_url))),
                ("原文", link("来源网页", source_url)),
                ("存档", link("存档原件", archived_url)),
            ]
        ),
    )


def published(
    agency: str,
    year: int,
    deadline: str,
    published_at: str,
    date_source: str,
    source_url: str | None,
    archived_url: str | None,
) -> Message:
    return Message(
        f"【已发布】{_subject(agency, year)}",
        _lines(
            [
                (
                    "发布日期",
                    f"{published_at}（依据：{DATE_SOURCES.get(date_source, escape(date_source))}），未超过截止日期{deadline}",
                ),
                ("说明", "此前提醒为“逾期未公开”，现已找到该报告"),
                ("详情", _page_link("报告页面", page_of(archived_url))),
                ("原文", link("来源网页", source_url)),
                ("存档", link("存档原件", archived_url)),
            ]
        ),
    )


DATE_SOURCES = {
    "manual": "人工录入",
    "page_meta": "网页元数据",
    "visible": "网页显示的发布时间",
    "url": "网址中的日期",
    "last_modified": "服务器Last-Modified",
    "first_seen": "首次发现日期，实际发布可能更早",
}


# --- crawler health ----------------------------------------------------------------------------
def portal_unreachable(portal: str, runs: int, error: str | None, start_url: str | None) -> Message:
    return Message(
        f"【采集异常】门户连续{runs}次无法访问：{escape(portal)}",
        _lines([("门户", link(escape(portal), start_url)), ("最近错误", escape(error or "未知"))]),
    )


def portal_empty(portal: str, expected: int, start_url: str | None) -> Message:
    return Message(
        f"【采集异常】门户未找到任何年度报告：{escape(portal)}",
        _lines(
            [
                ("门户", link(escape(portal), start_url)),
                ("现状", f"采集成功，但未找到任何年度报告；应有{expected}份报告已到截止日期。栏目地址可能已变更"),
            ]
        ),
    )


def portal_unverified(
    portal: str, agencies: int, reasons: dict[str, tuple[int, list[int]]], start_url: str | None
) -> Message:
    """`reasons`: reason → (agencies, report years). A health alert: an unverified year is no accusation."""
    lines = "；".join(
        f"{REASON_TEXT.get(r, escape(r))}：{n}个机关（{_years(years)}年度）"
        for r, (n, years) in sorted(reasons.items())
    )
    return Message(
        f"【采集异常】{escape(portal)}：{agencies}个机关无法核实",
        _lines(
            [
                ("门户", link(escape(portal), start_url)),
                ("现状", "这些机关有到期的年报未找到，但证据不足以认定“逾期未公开”，未发出该提醒"),
                ("原因", lines),
            ]
        ),
    )


def _years(years: list[int]) -> str:
    years = sorted(set(years))
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}—{years[-1]}"
    return "、".join(str(y) for y in years)


def portal_verified(portal: str, start_url: str | None) -> Message:
    return Message(
        f"【核实恢复】{escape(portal)}",
        _lines([("门户", link(escape(portal), start_url)), ("现状", "此前无法核实的机关，现均已可以核实")]),
    )


def portal_recovered(portal: str, start_url: str | None) -> Message:
    return Message(
        f"【采集恢复】{escape(portal)}", _lines([("门户", link(escape(portal), start_url)), ("现状", "已恢复正常采集")])
    )


_COLUMN_GONE = {
    "http_404": "原地址返回404（页面不存在）",
    "http_410": "原地址返回410（已删除）",
    "not_holding": "原栏目中已没有该门户已存档的任何年报",
}


def column_moved(portal: str, move: ColumnMove, title: str) -> Message:
    old, new = move.old, move.new
    if new.found_from and new.link_text:
        how = (
            f"从首页{link(escape(new.home_url), new.home_url)}出发，"
            f"在{link(escape(new.found_from), new.found_from)}找到链接“{escape(new.link_text)}”"
        )
    else:
        how = f"首页{link(escape(new.home_url), new.home_url)}本身列有年报"
    return Message(
        f"【{title}】{escape(portal)}",
        _lines(
            [
                ("门户", link(escape(portal), new.home_url)),
                ("原栏目", f"{link(escape(old.url), old.url)}：{_COLUMN_GONE.get(old.gone_reason or '', '已失效')}"),
                ("新栏目", link(escape(new.url), new.url)),
                ("发现方式", how),
                ("发现时所见年报链接", f"{new.reports}条" if new.reports is not None else ""),
                ("发现时间", beijing_time(new.found_at) or ""),
            ]
        ),
    )


def parse_failed(url: str, reason: str, detail: str, archived_url: str | None) -> Message:
    return Message(
        f"【解析失败】{escape(reason)}",
        _lines([("文件", link("来源网页", url)), ("原因", escape(detail)), ("存档", link("存档原件", archived_url))]),
    )


def parse_recovered(url: str, archived_url: str | None) -> Message:
    return Message(
        "【解析恢复】报告文件现已可以解析",
        _lines([("文件", link("来源网页", url)), ("存档", link("存档原件", archived_url))]),
    )


def digest(messages: list[Message], when: str) -> Message:
    """One message for a whole run (digest mode)."""
    parts = [f"### {i}. {m.title}\n{m.body}" for i, m in enumerate(messages, 1)]
    return Message(f"xxgk 监测摘要（{when}）：{len(messages)}条提醒", "\n\n---\n\n".join(parts))
