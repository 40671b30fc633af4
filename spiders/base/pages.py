"""Reading portal pages: links with their dates, titles, attachments, pagination, inline reports.

Written for real pages: GBK pages whose declared charset lies, `<base href>`, links opened by
`window.open(...)` or offered in a `<select>`, titles cut short in lists (the full one is in `title=`),
and report pages wrapped in navigation chrome whose footer links a 申请表.doc that is not the report.

A link that is not a URL at all (`http://[bad/`, a port out of range) is left out and remembered on the
page's selector (`PageSelector.bad_links`, shared with the response's meta as `xxgk_bad_links`), so one
broken href costs that link, never the page; crawler.crawl.safety.BadLinkMiddleware counts them as
refused (`bad_url`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from parsel import Selector
from scrapy.http import Response, TextResponse

from crawler.crawl.safety import BAD_LINKS_META
from crawler.parsing.readers.text import decode
from crawler.text import squash
from spiders.base.dates import parse_date

DOCUMENT_EXTENSIONS = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "zip", "ofd", "rtf", "md")
_DOC_PATH = re.compile(r"\.(" + "|".join(DOCUMENT_EXTENSIONS) + r")$", re.I)
_DOWNLOAD = re.compile(r"downfile|download|attach|filename=|fileid=|getfile|/files?/", re.I)
_DOC_NAME = re.compile(r"\.(" + "|".join(DOCUMENT_EXTENSIONS) + r")\b", re.I)
_SKIP_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#|data:)", re.I)
_OPEN_CALL = re.compile(r"""(?:window\.open|location\.href\s*=|openWin\w*)\s*\(?\s*['"]([^'"]+)['"]""", re.I)
_CHROME = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|menu|header|head|footer|foot|top|bottom|copyright|banner|sidebar|friend|flink|links?)(?:[-_\s\d]|$)",
    re.I,
)
_CHROME_TAGS = {"nav", "header", "footer"}
_NOT_REPORT_FILE = re.compile(r"申请表|申请书|表格下载|样表|格式文本|指南")
_NEXT = re.compile(r"^(?:下一页|下页|后页|下一頁|next|>|›|»|>>)$", re.I)
_NUMBER = re.compile(r"^\d{1,3}$")
_MAY_BE_DATED = re.compile(r"报|(?:19|20)\d{2}")
# Words that appear in the national template's tables: three or more mean the page itself is the report.
_REPORT_MARKERS = (
    "主动公开政府信息情况",
    "收到和处理政府信息公开申请情况",
    "本年新收政府信息公开申请数量",
    "上年结转政府信息公开申请数量",
    "予以公开",
    "结转下年度继续办理",
    "行政复议",
    "行政诉讼",
)


class PageSelector(Selector):
    """A page's Selector that remembers the hrefs it could not read (`bad_links`). Selectors of parts of the
    page are plain ones: the functions below record on the page's own selector."""

    bad_links: list[str]


@dataclass(frozen=True)
class Link:
    url: str
    text: str  # the best title: title= when the text is cut short, else the text
    date: str | None = None  # a date printed beside the link (list entries), ISO


def selector(response: Response) -> PageSelector:
    """The page as a Selector, re-decoded when its declared charset produced mojibake."""
    if isinstance(response, TextResponse):
        text = response.text
        if text.count("\ufffd") > 20 or _looks_misdecoded(text):
            text = decode(response.body)
    else:
        text = decode(response.body)
    sel = PageSelector(text=text, type="html")
    try:
        sel.bad_links = response.meta.setdefault(BAD_LINKS_META, [])
    except AttributeError:  # a response built without a request (tests, `xxgk parse`)
        sel.bad_links = []
    return sel


def _bad(sel: Selector | None, href: str) -> None:
    """Remember an unreadable href on the page's selector (when the caller has one)."""
    found = getattr(sel, "bad_links", None)
    if found is not None and href not in found:
        found.append(href)


def join(base: str, href: str, sel: Selector | None = None) -> str | None:
    """`href` made absolute against `base`; None (and recorded as a bad link) when it is not a URL at all."""
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        _bad(sel, href)
        return None
    return url


def _looks_misdecoded(text: str) -> bool:
    # GBK bytes read as Latin-1/cp1252 look like "Õþ¸®": many Latin-1 letters and no CJK at all.
    sample = text[:20000]
    latin = sum(1 for c in sample if "\u00c0" <= c <= "\u00ff")
    cjk = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    return latin > 50 and cjk < latin // 10


def base_url(sel: Selector, url: str) -> str:
    href = sel.xpath("//base/@href").get()
    return (join(url, href.strip(), sel) or url) if href else url


def absolute(base: str, href: str, sel: Selector | None = None) -> str | None:
    """The followable http(s) URL an href names (a `javascript:window.open('…')` one included), or None."""
    href = href.strip().replace("\\", "/")
    if not href or _SKIP_HREF.match(href):
        m = _OPEN_CALL.search(href)
        return join(base, m.group(1), sel) if m else None
    url = join(base, href, sel)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def text_of(node: Selector) -> str:
    return squash(node.xpath("string()").get() or "")


def links(sel: Selector, page_url: str) -> list[Link]:
    """Every followable link with its best title and the date printed next to it."""
    base = base_url(sel, page_url)
    out: list[Link] = []
    seen: set[str] = set()
    for a in sel.xpath("//a"):
        href = a.attrib.get("href") or ""
        url = absolute(base, href, sel) if href else None
        if url is None:
            onclick = a.attrib.get("onclick") or ""
            m = _OPEN_CALL.search(onclick)
            url = join(base, m.group(1), sel) if m else None
        if url is None:
            continue
        text = text_of(a) or squash(" ".join(a.xpath(".//img/@alt | .//img/@title").getall()))  # image links
        title = squash(a.attrib.get("title") or "")
        if title and (len(title) > len(text) or text.endswith(("...", "…"))):
            text = title
        key = f"{url}\x00{text}"
        if key in seen:
            continue
        seen.add(key)
        # The date beside an entry matters for report entries only; looking it up for every navigation link
        # would cost more than the rest of the page.
        out.append(Link(url, text, _date_near(a) if _MAY_BE_DATED.search(text) else None))
    for opt in sel.xpath("//select/option[@value]"):
        url = absolute(base, opt.attrib["value"], sel)
        if url and "/" in opt.attrib["value"]:
            out.append(Link(url, text_of(opt)))
    return out


def _date_near(a: Selector) -> str | None:
    """A date in the list entry holding the link (its li/tr/dd or the parent), not in the link text. A link in
    a table cell belongs to its row: lists laid out as tables print the date in a cell of its own."""
    node = a.root.getparent()
    while node is not None and node.tag not in ("li", "tr", "dd", "dl", "p", "div", "td", "th"):
        node = node.getparent()
    if node is not None and node.tag in ("td", "th"):
        row = node.getparent()
        while row is not None and row.tag != "tr":
            row = row.getparent()
        node = row if row is not None else node
    if node is None or not isinstance(node.tag, str):
        return None
    own = "".join(a.root.itertext())
    text = "".join(node.itertext())
    if len(text) > 400:
        return None
    d = parse_date(text.replace(own, " ")) if own else parse_date(text)
    return d.isoformat() if d else None


def meta_tags(sel: Selector) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in sel.xpath("//meta"):
        name = (m.attrib.get("name") or m.attrib.get("property") or m.attrib.get("itemprop") or "").strip().lower()
        if name and name not in out:
            out[name] = (m.attrib.get("content") or "").strip()
    return out


def title_candidates(sel: Selector) -> list[str]:
    """Where report pages print their title, most specific first."""
    tags = meta_tags(sel)
    out = [tags.get("articletitle", ""), tags.get("title", "")]
    for xp in ("//h1", "//h2", "//*[contains(@class,'title') or contains(@id,'title')]", "//h3", "//strong"):
        out += [text_of(n) for n in sel.xpath(xp)[:6]]
    title = text_of(sel.xpath("//title")[0]) if sel.xpath("//title") else ""
    out += [title, *re.split(r"[_|－—-]{1,2}", title)]
    return [t for t in (squash(x) for x in out) if 4 <= len(t) <= 120]


def in_chrome(node: Selector) -> bool:
    """Inside the header, footer, navigation or side menus of a page."""
    for anc in node.xpath("ancestor-or-self::*"):
        el = anc.root
        if not isinstance(el.tag, str):
            continue
        if el.tag in _CHROME_TAGS:
            return True
        marks = f"{el.get('class') or ''} {el.get('id') or ''}"
        if marks.strip() and _CHROME.search(marks):
            return True
    return False


def _viewer_file(url: str) -> str | None:
    """`/generic/web/viewer.html?file=/x/y.pdf` (the Fujian "全真版" viewer) → the file itself."""
    q = parse_qs(urlsplit(url).query)
    for key in ("file", "url", "src"):
        if key in q and _DOC_PATH.search(q[key][0].split("?")[0]):
            return q[key][0]
    return None


_WEAK_ATTACHMENT = re.compile(r"全文|原文|下载|附件|PDF|文本|查看报告|点击查看")


def is_document_link(link: Link) -> bool:
    """Linked as a file (by extension, a download path or a file name in the text), not just by words
    such as 报告全文."""
    path = urlsplit(link.url).path
    return bool(
        _DOC_PATH.search(path)
        or _DOC_NAME.search(link.text)
        or (_DOWNLOAD.search(link.url) and _DOC_NAME.search(link.url))
    )


def attachments(sel: Selector, page_url: str) -> list[Link]:
    """Document links of the page's content: files by extension, download path or file-named text, and
    links whose words offer the report (附件, 全文, 下载); not the chrome's links, and not the forms
    (申请表) portals attach to every page."""
    base = base_url(sel, page_url)
    out: dict[str, Link] = {}
    for a in sel.xpath("//a[@href]"):
        url = absolute(base, a.attrib["href"], sel)
        if not url or url.split("#", 1)[0] == page_url.split("#", 1)[0]:
            continue
        text = text_of(a) or squash(a.attrib.get("title") or "")
        viewer = _viewer_file(url)
        if viewer:
            url = join(base, viewer, sel)
            if url is None:
                continue
        link = Link(url, text)
        if not (viewer or is_document_link(link) or (_WEAK_ATTACHMENT.search(text) and len(text) <= 40)):
            continue
        if _NOT_REPORT_FILE.search(text) or in_chrome(a):
            continue
        out.setdefault(url, link)
    for node in sel.xpath("//iframe[@src] | //embed[@src] | //object[@data]"):
        src = node.attrib.get("src") or node.attrib.get("data") or ""
        url = absolute(base, src, sel)
        if not url:
            continue
        viewer = _viewer_file(url)
        if viewer:
            url = join(base, viewer, sel)
            if url is None:
                continue
        elif not _DOC_PATH.search(urlsplit(url).path):
            continue
        out.setdefault(url, Link(url, ""))
    return list(out.values())


def is_inline_report(text: str) -> bool:
    """The page body is itself a report: it prints the template's tables."""
    t = squash(text)
    return sum(1 for marker in _REPORT_MARKERS if marker in t) >= 3


def body_text(sel: Selector) -> str:
    return " ".join(sel.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall())


# --- pagination ---------------------------------------------------------------------------------------------
_CREATE_PAGE = re.compile(r"createPage(?:HTML|Html)\s*\(([^)]*)\)")
_COUNT_PAGE = re.compile(r"(?:var\s+)?countPage\s*=\s*['\"]?(\d+)")
_PAGE_EXT = ("html", "htm", "shtml", "jhtml")


def trs_next_page(script: str, url: str) -> str | None:
    """TRS static lists: index.html, index_1.html … index_{N-1}.html, N from createPageHTML(N, cur, "index",
    "html") (or `var countPage = N`). The page after this one, or None on the last page. Pages are walked one
    after the other, so a list that claims 100000 pages stops at its first empty page."""
    count: int | None = None
    name, ext = "index", None
    m = _CREATE_PAGE.search(script)
    if m:
        args = [a.strip().strip("'\"") for a in m.group(1).split(",")]
        ints = [int(a) for a in args if a.isdigit()]
        strs = [a for a in args if a and not a.isdigit()]
        exts = [s for s in strs if s.lower() in _PAGE_EXT]
        names = [s for s in strs if s.lower() not in _PAGE_EXT and re.fullmatch(r"[\w-]+", s)]
        if ints:
            count = ints[0]
        if exts:
            ext = exts[0]
        if names:
            name = names[-1]
    if count is None:
        m = _COUNT_PAGE.search(script)
        if m:
            count = int(m.group(1))
    if not count or count <= 1:
        return None
    parts = urlsplit(url)
    directory, _, current = parts.path.rpartition("/")
    if ext is None:
        ext = current.rsplit(".", 1)[1] if "." in current else "html"
    m = re.fullmatch(rf"{re.escape(name)}_(\d+)\.\w+", current)
    index = int(m.group(1)) if m else 0
    if index + 1 >= count:
        return None
    return urlunsplit((parts.scheme, parts.netloc, f"{directory}/{name}_{index + 1}.{ext}", "", ""))


def link_pages(page_links: list[Link], url: str) -> list[str]:
    """Pagination a page shows as links: 下一页 and page numbers, staying in the list's own folder."""
    here = urlsplit(url)
    folder = here.path.rsplit("/", 1)[0]
    out: list[str] = []
    for link in page_links:
        target = urlsplit(link.url)
        if target.netloc != here.netloc or target.path.rsplit("/", 1)[0] != folder or link.url == url:
            continue
        if _NEXT.match(link.text) or _NUMBER.match(link.text):
            out.append(link.url)
    return list(dict.fromkeys(out))


# --- lists inside the column ---------------------------------------------------------------------------------------
_LISTING_PATH = re.compile(
    r"(?:/|/(?:index|list|default)[_\d]*\.(?:s?html?|jsp|aspx?|php)|/col/col\d+/index\.html)$", re.I
)


def folder(url: str) -> str:
    """The folder a page sits in: the column's root, below which its own sub-lists live."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rsplit("/", 1)[0] + "/", "", ""))


def sub_listings(page_links: list[Link], root: str, url: str) -> list[str]:
    """Lists below the column's folder that the column links by name only (市教育局, 乡镇街道): a government's
    年报 column often holds one sub-list per department."""
    out = []
    for link in page_links:
        target = link.url.split("#", 1)[0]
        path = urlsplit(target).path
        if not target.startswith(root) or target == url or target.rstrip("/") == root.rstrip("/"):
            continue
        if len(link.text) > 16 or _NEXT.match(link.text) or _NUMBER.match(link.text) or _DOC_PATH.search(path):
            continue
        if _LISTING_PATH.search(path) and not re.search(r"(?:19|20)\d{2}年.*(?:报告|年报)", link.text):
            out.append(target)
    return list(dict.fromkeys(out))
