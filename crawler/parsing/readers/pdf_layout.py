"""PDF read by character position: table cells rebuilt from where each character sits.

pdfium's plain text drops blank cells (a row printed with 3 of 7 numbers reads as 3 values).
Here every character is placed: inside a ruled table it goes to the cell under it (pdf_grid),
so blank cells come out as "" and merged cells as None; the rest is grouped into printed
lines by baseline, and tables there without ruling lines get their columns from their header
(pdf_columns). A table row that a page break cut in two is joined again. The characters and
grids of a page come from its text layer or, for a scan, from OCR (crawler.parsing.ocr).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from dataclasses import dataclass

from crawler.parsing import labels
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.pdf_columns import ROW_START, ColumnReader, words
from crawler.parsing.readers.pdf_grid import Grid, page_grids
from crawler.parsing.values import is_figure
from crawler.text import squash


@dataclass(slots=True)
class Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    base: float  # the baseline: one value for every character of a printed line

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def page_chars(textpage) -> list[Char]:
    """The printed characters of a page with their font boxes and baselines (spaces dropped).

    Font (loose) boxes span the advance width, so gaps between them are real gaps; glyph
    boxes of dots, commas and quotes would be tiny and placed high or low.
    """
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    if n <= 0:
        return []
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # surrogate pairs shift indices: read one by one
        text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(n))
    rect, ox, oy = raw.FS_RECTF(), ctypes.c_double(), ctypes.c_double()
    out: list[Char] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        raw.FPDFText_GetLooseCharBox(textpage.raw, i, rect)
        raw.FPDFText_GetCharOrigin(textpage.raw, i, ox, oy)
        out.append(Char(ch, rect.left, rect.bottom, rect.right, rect.top, oy.value))
    return out


def text_lines(chars: list[Char]) -> list[list[Char]]:
    """Group characters into printed lines, top to bottom, each left to right.

    Characters of one line share a baseline; a cell beside it that sits a little higher or
    lower (vertically centred) is another line. Each line keeps its first baseline, so it
    cannot creep downwards.
    """
    lines: list[tuple[float, list[Char]]] = []
    for ch in sorted(chars, key=lambda c: -c.base):
        if lines and lines[-1][0] - ch.base <= 0.2 * (ch.y1 - ch.y0):
            lines[-1][1].append(ch)
        else:
            lines.append((ch.base, [ch]))
    return [sorted(line, key=lambda c: c.x0) for _, line in lines]


def line_text(line: list[Char]) -> str:
    """A line's text with a space where the gap between characters is wide."""
    out: list[str] = []
    prev: Char | None = None
    for ch in line:
        if prev is not None and ch.x0 - prev.x1 > 0.5 * max(ch.y1 - ch.y0, prev.y1 - prev.y0, 1.0):
            out.append(" ")
        out.append(ch.text)
        prev = ch
    return "".join(out)


def _table(grid: Grid, chars: list[Char]) -> Table:
    cells: dict[tuple[int, int], list[Char]] = {}
    for ch in chars:
        cells.setdefault(grid.locate(ch.cx, ch.cy), []).append(ch)
    rows: list[list[str | None]] = []
    for r, owners in enumerate(grid.owner):
        row: list[str | None] = []
        for c, own in enumerate(owners):
            if own != (r, c):
                row.append(None)  # covered by a merged cell
            else:
                row.append("\n".join(line_text(ln) for ln in text_lines(cells.get(own, []))))
        rows.append(row)
    return Table(rows)


Placed = tuple[float, str | Table, Grid | None]  # top y, block, the grid a table was read from


def place(chars: list[Char], grids: list[Grid], columns: ColumnReader) -> list[Placed]:
    """One page's characters and ruled tables as positioned blocks, top to bottom."""
    from crawler.parsing.readers.pdf import is_page_number

    in_table: list[list[Char]] = [[] for _ in grids]
    loose: list[Char] = []
    boxes = [(g.bbox, members) for g, members in zip(grids, in_table, strict=True)]
    for ch in chars:
        x, y = (ch.x0 + ch.x1) / 2, (ch.y0 + ch.y1) / 2
        for (x0, y0, x1, y1), members in boxes:
            if x0 <= x <= x1 and y0 <= y <= y1:
                members.append(ch)
                break
        else:
            loose.append(ch)
    lines = [words(ln) for ln in text_lines(loose)]
    # Running page numbers ("- 3 -") would read as a label line inside an open table.
    while lines and is_page_number(" ".join(w.text for w in lines[-1])):
        lines.pop()
    while lines and is_page_number(" ".join(w.text for w in lines[0])):
        lines.pop(0)
    blocks: list[Placed] = [(top, block, None) for top, block in columns.page(lines)]
    blocks += [(grid.ys[0], _table(grid, members), grid) for grid, members in zip(grids, in_table, strict=True)]
    blocks.sort(key=lambda b: -b[0])
    return blocks


def digital_page(page, index: int = 0) -> tuple[list[Char], list[Grid]]:
    """A page's own text layer and vector ruling lines."""
    return page_chars(page.get_textpage()), page_grids(page)


def _same_columns(a: Grid, b: Grid) -> bool:
    return len(a.xs) == len(b.xs) and all(abs(x - y) <= 3 for x, y in zip(a.xs, b.xs, strict=True))


def _names(text: str) -> str | None:
    s = squash(text)
    return labels.match_application_row(s, s, False) or labels.match_active_row(s)


def join_split_row(prev: Table, cur: Table) -> None:
    """Word lets a row break across pages: the top row of the next page then holds the rest of
    the labels (and sometimes the values) of the last row before the break. Put it back."""
    last, first = prev.rows[-1], cur.rows[0]
    if len(last) != len(first):
        return
    if any(is_figure(a) and is_figure(b) for a, b in zip(last, first, strict=True)):
        return  # two rows of figures
    for a, b in zip(last, first, strict=True):
        if b and not is_figure(b):
            if ROW_START.match(squash(b)):
                return  # a new row's label
            named = _names(b)
            if named and named != _names(a or ""):
                return
    prev.rows[-1] = [
        (a or "") + ("\n" if a and b else "") + (b or "") if (a or b) else (None if a is None and b is None else "")
        for a, b in zip(last, first, strict=True)
    ]
    del cur.rows[0]


PageReader = Callable[[object, int], "tuple[list[Char], list[Grid]] | None"]


def read_layout(pdf, reader: PageReader = digital_page) -> Document:
    """The whole document placed by position (the costlier, more faithful reading).

    `reader(page, index)` gives a page's characters and grids (its text layer, or OCR); None
    skips the page.
    """
    columns = ColumnReader()
    out: list[str | Table] = []
    tail: tuple[Table, Grid] | None = None  # a ruled table ending the previous page
    for i in range(len(pdf)):
        page = reader(pdf[i], i)
        if page is None:
            continue
        blocks = place(*page, columns)
        if tail and blocks and blocks[0][2] is not None and _same_columns(tail[1], blocks[0][2]):
            join_split_row(tail[0], blocks[0][1])
        out.extend(block for _, block, _ in blocks)
        tail = (blocks[-1][1], blocks[-1][2]) if blocks and blocks[-1][2] is not None else None
    out.extend(columns.finish())
    return Document(out, "pdf", pages=len(pdf))
