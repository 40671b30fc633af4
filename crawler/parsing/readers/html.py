"""HTML: a whole portal page with navigation chrome, or a bare fragment; Word-pasted markup included.

The article body is found by the containers the common CMSs print it in (TRS, Hanweb) and, failing
that, as the deepest element holding most of the page's non-link text and every data table, widened
to the title and 落款 printed beside it. Tables become grids with rowspan/colspan expanded: the text
sits in the top-left position, covered positions are None. A 图片版 page prints its tables as images: given
their bytes (`images`, fetched by the crawler from content_images()), each image is read by OCR where it
stands (readers/images.py) into the same grids, with a parse.ocr finding naming the cells it gave.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from urllib.parse import urljoin

from lxml import etree

from crawler.model import ParseError
from crawler.parsing import limits
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.text import decode

# Markup that never carries report text.
_JUNK_TAGS = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "select", "option", "button", "input", "textarea", "head", "title", "meta", "link",
}  # fmt: skip
# Page chrome around the article: dropped only when the body is found by text mass.
_CHROME_TAGS = {"nav", "header", "footer", "aside", "menu"}
# A class/id/role token naming chrome: the word itself, with one prefix (left-sidebar, main-header)
# and/or a structural suffix (nav-box, footer_wrap, crumbs2) — but not utility classes that merely
# start with such a word (position-relative, header-title-text).
_CHROME_TOKEN = re.compile(
    r"^(?:[a-z0-9]+[-_])?(?:nav|navbar|navigation|menu|header|footer|foot|breadcrumbs?|crumbs?|sidebar|share|"
    r"toolbar|topbar|banner|contentinfo|copyright|related|location|position|dqwz|skip)"
    r"(?:[-_]?(?:\d+|box|bar|wrap|wrapper|list|area|con|container|links?|nav|menu|top|bottom|inner))?$"
)
# Article containers of TRS WCM, Hanweb JCMS and the usual templates, most specific first.
_BODY_CLASSES = ("trs_editor_view", "trs_editor", "trs_ueditor", "article-content", "article_content", "bt_content")
_BODY_IDS = ("zoom", "ucap-content", "article-content", "article_content")
_BODY_LAST = ("article",)  # generic names: only when nothing more specific is there
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "dl", "dt", "dd", "blockquote", "pre", "center", "tr", "form", "fieldset", "address", "hr", "body",
    "caption", "figure", "figcaption", "td", "th", "tbody", "thead", "tfoot",
}  # fmt: skip
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
_SPACE = re.compile(r"[ \t\r\n\f\v\xa0]+")
_DECLARED = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{2,40})""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_BODY_SHARE = 0.7  # the body holds at least this share of the page's non-link text


def decode_html(data: bytes) -> str:
    """Bytes to text, trusting what the bytes prove over what the page declares.

    Valid UTF-8 is UTF-8 whatever the meta says (pages declaring gb2312 often are UTF-8, and the
    reverse); otherwise a declared multi-byte CJK charset is tried strictly, then detection.
    """
    if data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff") or _mostly_utf8(data):
        return decode(data)
    declared = _declared_charset(data)
    if declared:
        text = data.decode(declared, errors="replace")
        if text.count("\ufffd") <= max(1, len(text) // 2000):  # a stray bad byte does not disprove it
            return text
    return decode(data)


def _mostly_utf8(data: bytes) -> bool:
    """Strictly valid UTF-8, or UTF-8 with a stray broken sequence (a truncated page)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad == 0:
        return True
    wide = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return bad <= 2 and wide >= 50 * bad


def _declared_charset(data: bytes) -> str | None:
    """The codec a page declares, if it is a multi-byte one: single-byte declarations (latin-1) are
    the usual lie on Chinese pages and decode anything, so they prove nothing."""
    m = _DECLARED.search(data[:8192])
    if not m:
        return None
    try:
        name = codecs.lookup(m[1].decode("ascii")).name
    except LookupError:
        return None
    if name in ("gb2312", "gbk", "gb18030"):
        return "gb18030"  # the superset: GBK pages often hold characters outside their declared set
    if name in ("big5", "big5hkscs", "cp950", "euc_jp", "shift_jis", "cp932", "euc_kr"):
        return name
    return None


def _parse(text: str) -> etree._Element:
    # Plain lxml elements, not lxml.html's: the per-element class lookup costs a third of the time.
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(_XML_DECL.sub("", text, count=1), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise ParseError("unreadable", f"the HTML cannot be parsed ({e})") from e
    if root is None:
        raise ParseError("no_text", "the HTML page is empty")
    return root


def _text(el) -> str:
    return "".join(el.itertext())


def _tag(el) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _classes(el) -> list[str]:
    return (el.get("class") or "").lower().split()


def _title_hint(root) -> str | None:
    """The page's own title: ArticleTitle meta, then h1, a *title element, <title>.

    The first candidate that reads like a report title wins (an h1 is often the site's logo);
    failing that, the first candidate at all.
    """
    candidates: list[str] = []
    for meta in root.iter("meta"):
        if (meta.get("name") or "").lower() == "articletitle":
            candidates.append(meta.get("content") or "")
    candidates += [_text(el) for el in root.iter("h1")]
    candidates += [
        _text(el)
        for el in root.iter()
        if isinstance(el.tag, str) and any(c == "title" or c.endswith(("-title", "_title")) for c in _classes(el))
    ]
    candidates += [_text(el) for el in root.iter("title")]
    texts = [t for t in (_SPACE.sub(" ", c).strip() for c in candidates) if t and len(t) <= 150]
    for text in texts:
        if "报告" in text or "年报" in text:
            return text
    return texts[0] if texts else None


def _drop(el) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _strip_junk(root) -> None:
    doomed = [
        el
        for el in root.iter()
        if not isinstance(el.tag, str)
        or _tag(el) in _JUNK_TAGS
        or el.get("hidden") is not None
        or _HIDDEN.search(el.get("style") or "")
    ]
    for el in doomed:
        _drop(el)


def _is_chrome(el) -> bool:
    if _tag(el) in _CHROME_TAGS:
        return True
    tokens = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("role")))).lower().split()
    return any(_CHROME_TOKEN.match(t) for t in tokens)


def _strip_chrome(root, mass: dict) -> set:
    """Drop navigation, headers, footers and sidebars — unless one holds much of the page's text,
    which means the name lied (a theme calling its content column "main-header-wrap").
    Returns the elements that held chrome: page-frame level, above any article."""
    limit = 0.3 * mass.get(root, 0)
    doomed = [
        el for el in root.iter() if el is not root and _tag(el) != "body" and _is_chrome(el) and mass.get(el, 0) < limit
    ]
    hosts = {el.getparent() for el in doomed}
    for el in doomed:
        _drop(el)
    return hosts


def _mass(root) -> tuple[dict, dict]:
    """Text length per element, without and with link text, summed bottom-up in one pass."""
    mass: dict = {}
    size: dict = {}
    for el in reversed(list(root.iter())):
        own = len(_SPACE.sub("", el.text or ""))
        m, z = (0 if el.tag == "a" else own), own
        for child in el:
            tail = len(_SPACE.sub("", child.tail or "")) if child.tail else 0
            m += mass.get(child, 0) + tail
            z += size.get(child, 0) + tail
        mass[el], size[el] = m, z
    return mass, size


def _named_body(root, mass: dict):
    """The largest element named like an article container, in order of name specificity."""
    ranks: list[list] = [[], [], []]  # specific classes, specific ids, generic names
    for el in root.iter():
        classes, ident = _classes(el), (el.get("id") or "").lower()
        if any(c in _BODY_CLASSES for c in classes):
            ranks[0].append(el)
        elif ident in _BODY_IDS:
            ranks[1].append(el)
        elif ident in _BODY_LAST or any(c in _BODY_LAST for c in classes):
            ranks[2].append(el)
    for hits in ranks:
        hits = [el for el in hits if mass.get(el, 0) >= 200 or any(True for _ in el.iter("table"))]
        if hits:
            return max(hits, key=lambda el: mass.get(el, 0))
    return None


def _data_tables(root) -> list:
    return [t for t in root.iter("table") if not _is_layout(t) and any(ch.isdigit() for ch in _text(t))]


def _densest(root, mass: dict):
    """The deepest element holding most of the page's non-link text and every data table.

    Requiring the tables keeps a report whose Word sections were pasted as sibling divs (a landscape
    table between portrait text) in one piece even when one section holds most of the text.
    """
    total = mass.get(root, 0)
    tables = _data_tables(root)
    best, best_depth = root, 0
    for el in root.iter():
        if mass.get(el, 0) < _BODY_SHARE * total or _tag(el) in ("tr", "tbody", "thead", "table"):
            continue
        depth = sum(1 for _ in el.iterancestors())
        if depth > best_depth and all(t is el or el in t.iterancestors() for t in tables):
            best, best_depth = el, depth
    return best


def find_body(root):
    """The article element of a page (the page itself for a fragment)."""
    mass, _ = _mass(root)
    named = _named_body(root, mass)
    if named is not None:
        return named
    frames = _strip_chrome(root, mass)
    mass, size = _mass(root)
    return _widen(_densest(root, mass), frames, size)


def _widen(body, frames: set, size: dict):
    """Climb from the densest element to parents that add little around it: the title, a lead
    paragraph or the 落款 often sit beside the main text block. Never into an element that held
    page chrome, and never over more than a sixth of added text."""
    while (parent := body.getparent()) is not None and parent not in frames and _tag(parent) != "html":
        if size.get(parent, 0) - size.get(body, 0) > size.get(body, 0) / 6:
            break
        body = parent
    return body


# ---- text and tables ------------------------------------------------------------------------
class _Lines:
    """Collects inline text into lines; block boundaries and <br> end a line. Tables met on the way are
    laid out against the document's one grid budget; images met on the way are read by OCR when the caller
    has their bytes (`pictures`)."""

    def __init__(self, budget: limits.Budget, pictures: _Pictures | None = None) -> None:
        self.budget = budget
        self.pictures = pictures
        self.blocks: list[str | Table] = []
        self._buf: list[str] = []

    def text(self, s: str | None) -> None:
        if s:
            self._buf.append(s)

    def newline(self) -> None:
        line = _SPACE.sub(" ", "".join(self._buf)).strip()
        self._buf = []
        if line:
            self.blocks.append(line)

    def table(self, t: Table) -> None:
        self.newline()
        self.blocks.append(t)


class _Pictures:
    """The report page's content images the caller fetched (URL → bytes), read by OCR where they stand."""

    def __init__(self, images: Mapping[str, bytes], page_url: str | None) -> None:
        from crawler.parsing import ocr

        self.images, self.page_url = images, page_url
        self.until = ocr.deadline()  # one OCR budget for all the page's images
        self.read: list[int] = []  # which of the page's images were read (1-based, in page order)
        self.tables: list[Table] = []
        self.doubtful: list[str] = []
        self.timed_out: list[int] = []
        self.seen = 0

    def blocks(self, img) -> list[str | Table]:
        from crawler.parsing.readers.images import read_images

        src = (img.get("src") or "").strip()
        data = self.images.get(urljoin(self.page_url or "", src)) or self.images.get(src) if src else None
        if data is None:
            return []
        self.seen += 1
        got = read_images([data], self.until)
        self.read.append(self.seen - 1)
        self.doubtful += got.doubtful
        self.timed_out += [self.seen - 1] if got.timed_out else []
        self.tables += [b for b in got.blocks if isinstance(b, Table)]
        return got.blocks

    def finding(self, doc: Document):
        from crawler.parsing import ocr

        return ocr.finding(
            self.read, self.doubtful, self.timed_out, ocr.read_cells(doc, self.tables), what="张正文图片", text=False
        )


def content_images(data: bytes, page_url: str | None = None) -> list[str]:
    """The URLs of the images inside a report page's article body, in page order, when the body prints no data
    table of its own: a 图片版 page's tables (what the crawler fetches for read_html's `images`; page chrome,
    logos and footers are not the body, and the pictures beside a page's printed tables are not its tables)."""
    root = _parse(decode_html(data))
    try:
        _strip_junk(root)
    except ValueError:
        return []
    body = find_body(root)
    if _data_tables(body):
        return []
    out: list[str] = []
    for img in body.iter("img"):
        src = (img.get("src") or "").strip()
        if src and not src.lower().startswith(("data:", "javascript:")):
            url = urljoin(page_url or "", src)
            if url not in out:
                out.append(url)
    return out


def _rows(table) -> list:
    """The table's own rows (not those of nested tables), in order."""
    out = []
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            out.append(child)
        elif tag in ("thead", "tbody", "tfoot"):
            out.extend(tr for tr in child if _tag(tr) == "tr")
    return out


def _cells(tr) -> list:
    return [td for td in tr if _tag(td) in ("td", "th")]


def _is_layout(table) -> bool:
    """A table that frames content rather than holding data: it wraps tables, or has one column."""
    if any(True for _ in table.iterdescendants("table")):
        return True
    return all(len(_cells(tr)) <= 1 for tr in _rows(table))


def _span(value: str | None, limit: int) -> int:
    if value is None:
        return 1
    try:
        n = int(re.sub(r"[^\d]", "", value or "") or 1)
    except ValueError:
        n = 1
    if n == 0:  # rowspan="0": to the end of the table
        n = limit
    return max(1, min(n, limit))


def _cell_text(td, budget: limits.Budget) -> str:
    if len(td) == 0:  # the common case, plain text: no walk needed
        return _SPACE.sub(" ", td.text or "").strip()
    lines = _Lines(budget)
    _walk_children(td, lines)
    lines.newline()
    return "\n".join(b for b in lines.blocks if isinstance(b, str))


def grid(table, budget: limits.Budget) -> Table:
    """Expand rowspan/colspan: text in the top-left position of a merged cell, None where it covers.

    Every position a cell covers and every row is charged to `budget` before it is laid out: `rowspan=0`
    reaches to the end of the table, so a few kilobytes of such cells would otherwise cover rows² × 1000
    positions."""
    rows = _rows(table)
    taken: list[set[int]] = [set() for _ in rows]  # grid columns occupied, per row
    out: list[list[str | None]] = []
    for r, tr in enumerate(rows):
        placed: dict[int, str] = {}
        c = 0
        for td in _cells(tr):
            while c in taken[r]:
                c += 1
            colspan = _span(td.get("colspan"), limits.SPAN)
            rowspan = _span(td.get("rowspan"), len(rows) - r)
            budget.take(colspan * rowspan)
            placed[c] = _cell_text(td, budget)
            for dr in range(rowspan):
                taken[r + dr].update(range(c, c + colspan))
            c += colspan
        width = max(taken[r], default=-1) + 1
        budget.take(max(1, width))
        row = [placed.get(cc) for cc in range(width)]
        if any(row):  # rows that print nothing (Word's zero-height sizing row) are not table rows
            out.append(row)
    return Table(out)


def _walk(el, lines: _Lines) -> None:
    tag = _tag(el)
    if not tag or tag in _JUNK_TAGS:
        return
    if tag == "br":
        lines.newline()
        return
    if tag == "img" and lines.pictures is not None:
        for block in lines.pictures.blocks(el):
            if isinstance(block, Table):
                lines.table(block)
            else:
                lines.newline()
                lines.text(block)
                lines.newline()
        return
    if tag in ("pre", "plaintext", "xmp"):
        # Preformatted text keeps its line breaks: reports pasted as text rows (规章  0  0  11).
        lines.newline()
        for line in _text(el).splitlines():
            lines.text(line)
            lines.newline()
        return
    if tag == "table":
        if _is_layout(el):
            for tr in _rows(el):
                for td in _cells(tr):
                    lines.newline()
                    _walk_children(td, lines)
                    lines.newline()
        else:
            lines.table(grid(el, lines.budget))
        return
    block = tag in _BLOCK_TAGS
    if block:
        lines.newline()
    _walk_children(el, lines)
    if block:
        lines.newline()


def _walk_children(el, lines: _Lines) -> None:
    lines.text(el.text)
    for child in el:
        _walk(child, lines)
        lines.text(child.tail)


def read_html(
    data: bytes,
    budget: limits.Budget | None = None,
    images: Mapping[str, bytes] | None = None,
    page_url: str | None = None,
) -> Document:
    """`budget`: the grid budget of an enclosing document (an HTML chunk inside a DOCX shares the DOCX's).
    `images`: the bytes of the page's content images by URL (content_images(); resolved against `page_url`, or
    as the src prints them): each is read by OCR where it stands, its tables as grids like the page's own."""
    root = _parse(decode_html(data))
    title = _title_hint(root)
    try:
        _strip_junk(root)
    except ValueError as e:  # lxml refuses control characters it meets while re-joining text
        raise ParseError("unreadable", f"the HTML cannot be read ({e})") from e
    body = find_body(root)
    pictures = _Pictures(images, page_url) if images else None
    lines = _Lines(budget or limits.Budget("HTML"), pictures)
    try:
        _walk(body, lines)
    except RecursionError as e:
        raise ParseError("unreadable", "the HTML is nested too deeply to read") from e
    lines.newline()
    if not lines.blocks:
        raise ParseError("no_text", "the HTML page has no text")
    doc = Document(lines.blocks, "html", title_hint=title)
    if pictures is not None and pictures.read:
        doc.extra_findings = [pictures.finding(doc)]
    return doc
