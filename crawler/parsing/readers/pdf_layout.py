"""PDF read by character position: table cells rebuilt from where each character sits.

pdfium's plain text drops blank cells (a row printed with 3 of 7 numbers reads as 3 values).
Here every character is placed: inside a ruled table it goes to the cell under it (pdf_grid),
so blank cells come out as "" and merged cells as None; pages whose tables have no ruling
lines get columns from their header (pdf_columns). Running text keeps pdfium's line order.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.parsing.document import Document, Table
from crawler.parsing.readers.pdf_grid import Grid, page_grids


@dataclass(slots=True)
class Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def page_chars(textpage) -> list[Char | None]:
    """Characters in pdfium's reading order; None marks a line break, spaces have no box.

    Boxes are the loose (font) boxes: all characters of a line share one height, so
    quotes and dots group with their line and gaps between boxes are real spaces.
    """
    n = textpage.count_chars()
    if n <= 0:
        return []
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # surrogate pairs shift indices: read one by one
        import pypdfium2.raw as raw

        text = "".join(chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(n))
    out: list[Char | None] = []
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if ch == "\n" or (i + 1 < n and text[i + 1] != "\n"):
                out.append(None)
        elif ch.isspace():
            out.append(Char(" ", 0, 0, 0, 0))
        else:
            out.append(Char(ch, *textpage.get_charbox(i, loose=True)))
    return out


def text_lines(chars: list[Char]) -> list[list[Char]]:
    """Group characters into printed lines, top to bottom, each left to right."""
    lines: list[list[Char]] = []
    for ch in sorted(chars, key=lambda c: -c.cy):
        line = lines[-1] if lines else None
        if line is not None:
            top, bottom = max(c.y1 for c in line), min(c.y0 for c in line)
            overlap = min(top, ch.y1) - max(bottom, ch.y0)
            if overlap >= 0.5 * min(top - bottom, ch.y1 - ch.y0):
                line.append(ch)
                continue
        lines.append([ch])
    return [sorted(line, key=lambda c: c.x0) for line in lines]


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


@dataclass
class PageLayout:
    """One page as positioned blocks: (top y, block) pairs and the grids its tables came from."""

    blocks: list[tuple[float, str | Table]]
    grids: list[Grid]


def read_page(page) -> PageLayout:
    chars = page_chars(page.get_textpage())
    grids = page_grids(page)
    in_table: list[list[Char]] = [[] for _ in grids]
    blocks: list[tuple[float, str | Table]] = []
    line: list[Char] = []

    def flush() -> None:
        text = "".join(c.text for c in line).strip()
        placed = [c for c in line if c.text != " "]
        if text and placed:
            blocks.append((max(c.y1 for c in placed), text))
        line.clear()

    for ch in chars:
        if ch is None:
            flush()
            continue
        if ch.text != " ":
            g = next((k for k, grid in enumerate(grids) if grid.contains(ch.cx, ch.cy)), None)
            if g is not None:
                in_table[g].append(ch)
                continue
        line.append(ch)
    flush()
    for grid, members in zip(grids, in_table, strict=True):
        blocks.append((grid.ys[0], _table(grid, members)))
    blocks.sort(key=lambda b: -b[0])
    return PageLayout(blocks, grids)


def read_layout(pdf) -> Document:
    """The whole document placed by position (the costlier, more faithful reading)."""
    from crawler.parsing.readers.pdf import strip_page_numbers

    out: list[str | Table] = []
    for i in range(len(pdf)):
        layout = read_page(pdf[i])
        texts = [b for _, b in layout.blocks]
        out.extend(strip_page_numbers(texts))
    return Document(out, "pdf", pages=len(pdf))
