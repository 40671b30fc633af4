"""OFD (GB/T 33190) renditions of a report, laid out here the way an OFD writer prints a Word document.

`to_ofd(report)` lays the report of renditions.report_from out on landscape A4 pages: centred title lines,
wrapped paragraphs, and each table with its merged cells (the renditions' Layout), split between rows where
a page ends, the header not repeated, a merged cell cut by the break drawn on both pages with its text on the
first. Text is one TextObject per printed line with DeltaX steps (compressed as "g N d" where equal); the title
is drawn at size 1 scaled by its CTM. Cell borders (ruled=True) are drawn as OFD writers do: horizontal edges
as stroked paths, vertical edges as thin filled bars; a template page draws a header rule on every page, and
each page prints its number ("- 3 -"). ruled=False prints the same tables without any border. A second
writer ("per_char") prints each character as its own object and a page's borders as one path.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from support.renditions import Layout, Report, Span, grid_origins, layout_width

NS = "http://www.ofdspec.org/2016"
PAGE_W, PAGE_H = 297.0, 210.0  # landscape A4, millimetres
MARGIN = 18.0
BODY, CELL, TITLE = 3.7, 3.2, 5.6  # font sizes (10.5 pt, 9 pt, 16 pt)
PAD = 1.5  # cell padding
LABEL_CAP = 48.0  # widest a label column grows before its text wraps
GROUP_CHARS = 3  # a row-group label column (三、本年度办理结果) is this many characters wide


def char_width(ch: str, size: float) -> float:
    return size * (0.5 if ord(ch) < 0x2E80 else 1.0)


def text_width(text: str, size: float) -> float:
    return sum(char_width(c, size) for c in text)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width`, breaking between characters; explicit breaks kept."""
    out: list[str] = []
    for piece in text.split("\n"):
        line = ""
        for ch in piece:
            if line and text_width(line + ch, size) > width + 1e-6:
                out.append(line)
                line = ""
            line += ch
        out.append(line)
    return out


@dataclass
class _Text:
    x: float  # left end of the line
    base: float  # baseline, from the page top
    size: float
    text: str
    scaled: bool = False  # drawn at size 1 and scaled up by the CTM


@dataclass
class _Page:
    texts: list[_Text] = field(default_factory=list)
    rules: list[tuple[float, float, float, float]] = field(default_factory=list)  # x0 y0 x1 y1


class _Writer:
    def __init__(self, ruled: bool):
        self.ruled = ruled
        self.pages: list[_Page] = [_Page()]
        self.y = MARGIN

    @property
    def page(self) -> _Page:
        return self.pages[-1]

    def room(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN:
            self.pages.append(_Page())
            self.y = MARGIN

    def line(self, text: str, size: float, align: str = "left", indent: float = 0.0, scaled: bool = False) -> None:
        height = size * 1.6
        self.room(height)
        width = text_width(text, size)
        x = {
            "left": MARGIN + indent,
            "center": (PAGE_W - width) / 2,
            "right": PAGE_W - MARGIN - width,
        }[align]
        self.page.texts.append(_Text(x, self.y + size, size, text, scaled))
        self.y += height

    def paragraph(self, text: str) -> None:
        width = PAGE_W - 2 * MARGIN
        lines = wrap(text, width - 2 * BODY, BODY)
        first, rest = lines[0], "".join(lines[1:])
        self.line(first, BODY, indent=2 * BODY)
        for line in wrap(rest, width, BODY) if rest else []:
            self.line(line, BODY)

    def table(self, layout: Layout) -> None:
        placed = grid_origins(layout)
        ncols = layout_width(layout)
        widths = _column_widths(placed, ncols)
        heights = _row_heights(placed, widths, len(layout))
        x0 = (PAGE_W - sum(widths)) / 2
        xs = [x0 + sum(widths[:c]) for c in range(ncols + 1)]
        # Rows go on pages; each page's rows are [start, end).
        starts: list[tuple[int, float]] = []  # (first row, its top) per page piece
        tops: list[float] = []
        page_of: list[int] = []
        self.room(heights[0])
        starts.append((0, self.y))
        for r, h in enumerate(heights):
            if self.y + h > PAGE_H - MARGIN:
                self.pages.append(_Page())
                self.y = MARGIN
                starts.append((r, self.y))
            tops.append(self.y)
            page_of.append(len(self.pages) - 1)
            self.y += h
        # Labels of rows sit left in their cells; headers and figures, right of them, are centred.
        first_value = min((c for row in placed for c, span in row if span.value), default=0)
        for r, row in enumerate(placed):
            for c, span in row:
                self._cell(span, r, c, xs, tops, heights, page_of, c >= first_value)
        self.y += BODY

    def _cell(self, span: Span, r: int, c: int, xs, tops, heights, page_of, centred: bool) -> None:
        """A printed cell: its borders on each page it reaches; its text centred in it, or, when a page
        break leaves too little room, from the top and on into the cell's part on the next page."""
        left, right = xs[c], xs[c + span.cols]
        pieces: dict[int, list[int]] = {}
        for rr in range(r, r + span.rows):
            pieces.setdefault(page_of[rr], []).append(rr)
        boxes = [(page, tops[m[0]], tops[m[-1]] + heights[m[-1]]) for page, m in sorted(pieces.items())]
        for page, top, bottom in boxes:
            if self.ruled:
                self.pages[page].rules += [
                    (left, top, right, top),
                    (left, bottom, right, bottom),
                    (left, top, left, bottom),
                    (right, top, right, bottom),
                ]
        lines = [ln for ln in wrap(span.text, right - left - 2 * PAD, CELL) if ln] if span.text else []
        step = CELL * 1.3
        page, top, bottom = boxes[0]
        y = top + (bottom - top - len(lines) * step) / 2
        if y < top + PAD / 2:
            y = top + PAD / 2
        for line in lines:
            if y + step > bottom and len(boxes) > 1:
                boxes.pop(0)
                page, top, bottom = boxes[0]
                y = top + PAD / 2
            width = text_width(line, CELL)
            x = (left + right - width) / 2 if centred or span.cols > 1 else left + PAD
            self.pages[page].texts.append(_Text(x, y + CELL * 1.05, CELL, line))
            y += step


def _need(span: Span, cap: float) -> float:
    widest = max((text_width(p, CELL) for p in span.text.split("\n")), default=0.0)
    return min(widest, cap) + 2 * PAD


def _column_widths(placed, ncols: int) -> list[float]:
    widths = [9.0] * ncols
    for row in placed:
        for c, span in row:
            if span.cols == 1:
                cap = GROUP_CHARS * CELL if span.rows > 1 and not span.value else LABEL_CAP
                widths[c] = max(widths[c], _need(span, cap), 11.0 if span.value else 0.0)
    for row in placed:
        for c, span in row:
            if span.cols > 1:
                short = _need(span, LABEL_CAP * span.cols) - sum(widths[c : c + span.cols])
                if short > 0 and span.rows == 1 and not span.value and len(span.text) < 12:
                    for k in range(c, c + span.cols):
                        widths[k] += short / span.cols
    room = PAGE_W - 2 * MARGIN
    total = sum(widths)
    return [w * room / total for w in widths] if total > room else widths


def _row_heights(placed, widths: list[float], nrows: int) -> list[float]:
    def height(span: Span, c: int) -> float:
        inner = sum(widths[c : c + span.cols]) - 2 * PAD
        lines = len(wrap(span.text, inner, CELL)) if span.text else 1
        return lines * CELL * 1.3 + 2 * PAD

    heights = [CELL * 1.3 + 2 * PAD] * nrows
    for r, row in enumerate(placed):
        for c, span in row:
            if span.rows == 1:
                heights[r] = max(heights[r], height(span, c))
    for r, row in enumerate(placed):
        for c, span in row:
            if span.rows > 1:
                short = height(span, c) - sum(heights[r : r + span.rows])
                if short > 0:
                    heights[r + span.rows - 1] += short
    return heights


# ---- the OFD package ------------------------------------------------------------------------
def _steps(text: str, size: float) -> str:
    """DeltaX: the step from each glyph to the next, runs of equal steps as "g N d"."""
    steps = [char_width(ch, size) for ch in text[:-1]]
    out: list[str] = []
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j] == steps[i]:
            j += 1
        out.append(f"g {j - i} {steps[i]:g}" if j - i > 2 else " ".join(f"{s:g}" for s in steps[i:j]))
        i = j
    return " ".join(out)


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _text_xml(t: _Text, ids: _Ids) -> str:
    width = text_width(t.text, t.size)
    box = f"{t.x:.3f} {t.base - t.size:.3f} {width + t.size:.3f} {t.size * 1.3:.3f}"
    if t.scaled:  # object space in units of the font size, the CTM scales it to millimetres
        s = t.size
        return (
            f'<ofd:TextObject ID="{ids()}" Boundary="{box}" Font="2" Size="1" CTM="{s:g} 0 0 {s:g} 0 0">'
            f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="1" DeltaX="{_steps(t.text, 1.0)}">'
            f"{escape(t.text)}</ofd:TextCode></ofd:TextObject>"
        )
    return (
        f'<ofd:TextObject ID="{ids()}" Boundary="{box}" Font="1" Size="{t.size:g}">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{t.size:g}" DeltaX="{_steps(t.text, t.size)}">'
        f"{escape(t.text)}</ofd:TextCode></ofd:TextObject>"
    )


def _rule_xml(rule: tuple[float, float, float, float], ids: _Ids) -> str:
    x0, y0, x1, y1 = rule
    if y0 == y1:  # a stroked line, drawn in its own box
        return (
            f'<ofd:PathObject ID="{ids()}" Boundary="{x0:.3f} {y0 - 0.5:.3f} {x1 - x0:.3f} 1" LineWidth="0.25">'
            f'<ofd:StrokeColor Value="0 0 0"/><ofd:AbbreviatedData>M 0 0.5 L {x1 - x0:.3f} 0.5</ofd:AbbreviatedData>'
            "</ofd:PathObject>"
        )
    h = y1 - y0  # a thin filled bar
    return (
        f'<ofd:PathObject ID="{ids()}" Boundary="{x0 - 0.15:.3f} {y0:.3f} 0.3 {h:.3f}" Stroke="false" Fill="true">'
        f'<ofd:FillColor Value="0 0 0"/><ofd:AbbreviatedData>M 0 0 L 0.3 0 L 0.3 {h:.3f} L 0 {h:.3f} C</ofd:AbbreviatedData>'
        "</ofd:PathObject>"
    )


def _chars_xml(t: _Text, ids: _Ids) -> str:
    """The line one character per TextObject, each in its own box, as some OFD writers print text."""
    out, x = [], t.x
    for ch in t.text:
        w = char_width(ch, t.size)
        if not ch.isspace():
            out.append(
                f'<ofd:TextObject ID="{ids()}" Boundary="{x:.3f} {t.base - t.size:.3f} {w:.3f} {t.size * 1.3:.3f}" '
                f'Font="1" Size="{t.size:g}"><ofd:TextCode X="0" Y="{t.size:g}">{escape(ch)}</ofd:TextCode></ofd:TextObject>'
            )
        x += w
    return "".join(out)


def _grid_xml(rules: list[tuple[float, float, float, float]], ids: _Ids) -> str:
    """Every border of the page in one stroked path (M/L pairs), in a box covering the page."""
    if not rules:
        return ""
    moves = " ".join(f"M {x0:.3f} {y0:.3f} L {x1:.3f} {y1:.3f}" for x0, y0, x1, y1 in rules)
    return (
        f'<ofd:PathObject ID="{ids()}" Boundary="0 0 {PAGE_W:g} {PAGE_H:g}" LineWidth="0.25">'
        f"<ofd:AbbreviatedData>{moves}</ofd:AbbreviatedData></ofd:PathObject>"
    )


def _page_xml(page: _Page, number: int, ids: _Ids, writer: str) -> str:
    number_text = _Text((PAGE_W - text_width(f"- {number} -", CELL)) / 2, PAGE_H - 8, CELL, f"- {number} -")
    texts = [*page.texts, number_text]
    if writer == "per_char":
        body = "".join(_text_xml(t, ids) if t.scaled else _chars_xml(t, ids) for t in texts)
        body += _grid_xml(page.rules, ids)
    else:
        body = "".join(_text_xml(t, ids) for t in texts) + "".join(_rule_xml(r, ids) for r in page.rules)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">'
        f"<ofd:Area><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}</ofd:PhysicalBox></ofd:Area>"
        '<ofd:Template TemplateID="100" ZOrder="Background"/>'
        f'<ofd:Content><ofd:Layer ID="{ids()}" Type="Body"><ofd:PageBlock ID="{ids()}">{body}</ofd:PageBlock>'
        "</ofd:Layer></ofd:Content></ofd:Page>"
    )


def _package(pages: list[_Page], title: str, writer: str) -> bytes:
    ids = _Ids()
    ids.n = 100
    contents = [_page_xml(p, i + 1, ids, writer) for i, p in enumerate(pages)]
    header_rule = (
        f'<ofd:PathObject ID="{ids()}" Boundary="{MARGIN:g} 10 {PAGE_W - 2 * MARGIN:g} 1" LineWidth="0.5">'
        f"<ofd:AbbreviatedData>M 0 0.5 L {PAGE_W - 2 * MARGIN:g} 0.5</ofd:AbbreviatedData></ofd:PathObject>"
    )
    template = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
        f'<ofd:Layer ID="{ids()}">{header_rule}</ofd:Layer></ofd:Content></ofd:Page>'
    )
    root = "/Doc_0/" if writer == "per_char" else ""  # this writer names parts from the package root
    listed = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="{root}Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{ids.n}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}"
        "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
        '<ofd:TemplatePage ID="100" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
        f"<ofd:Pages>{listed}</ofd:Pages></ofd:Document>"
    )
    res = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
        '<ofd:Font ID="1" FontName="宋体" FamilyName="宋体"/><ofd:Font ID="2" FontName="方正小标宋简体" FamilyName="方正小标宋简体"/>'
        "</ofd:Fonts></ofd:Res>"
    )
    ofd = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
        f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>0a1b2c3d</ofd:DocID><ofd:Title>{escape(title)}</ofd:Title>"
        "<ofd:Creator>xxgk tests</ofd:Creator></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
        "</ofd:DocBody></ofd:OFD>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", ofd)
        zf.writestr("Doc_0/Document.xml", document)
        zf.writestr("Doc_0/PublicRes.xml", res)
        zf.writestr("Doc_0/Tpls/Tpl_0/Content.xml", template)
        for i, content in enumerate(contents):
            zf.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", content)
    return buf.getvalue()


WRITERS = ("lines", "per_char")


def to_ofd(report: Report, ruled: bool = True, title: str | None = None, writer: str = "lines") -> bytes:
    """The report as an OFD package; `title` goes into DocInfo (None: the report's own title).

    writer "lines": a TextObject per printed line with DeltaX steps, each border its own path (stroked
    horizontals, filled vertical bars); "per_char": a TextObject per character without steps, all borders
    of a page in one stroked path, pages named from the package root (/Doc_0/Pages/…)."""
    if writer not in WRITERS:
        raise ValueError(f"unknown OFD writer {writer!r}")
    w = _Writer(ruled)
    for line in report.title:
        w.line(line, TITLE, "center", scaled=True)
    for block in report.blocks:
        if isinstance(block, str):
            w.paragraph(block)
        else:
            w.table(block)
    for line in report.closing:
        w.line(line, BODY, "right")
    return _package(w.pages, report.full_title if title is None else title, writer)
