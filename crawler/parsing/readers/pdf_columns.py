"""Tables printed without ruling lines: columns from the header, rows from the labels.

A header cell's words stack vertically ("商业/企业", "结果/维持", "本年新/制作数量"); a stack
ends when its words spell a template column label, and its x-extent is a column. Value words
go to the column under which they sit; a row starts at an enumerated label ("（二）", "3.",
"一、") or at a line of values, and wrapped label lines join it. Rows without any value print
"" in every column when their label names a template row. The columns stay open across a
page break, where the header is not repeated, until a line that cannot be a table row (prose,
a heading across the columns); a header cut by the page break is finished on the next page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler import template as tpl
from crawler.parsing import labels
from crawler.parsing.document import Table
from crawler.parsing.values import is_figure
from crawler.text import squash

# Column labels of every template table, compared squashed ("本年增/减", "结果维持", "自然人"…).
COLUMN_LABELS = frozenset(squash(c.label.rsplit(" / ", 1)[1]) for t in tpl.TEMPLATES for c in tpl.cells(t)) | {
    squash(s) for s in ("本年处理决定数量", "采购总金额", "本年收费金额")
}
_PREFIXES = frozenset(label[:k] for label in COLUMN_LABELS for k in range(1, len(label)))
_PAGE_ABOVE = 10_000.0  # y offset that puts lines carried from the previous page above this one
# A label that opens a row: an enumerator, or a table-二 block heading (第二十条第（五）项).
ROW_START = re.compile(
    r"^(?:\([一二三四五六七八九十]{1,3}\)|[一二三四五六七八九十]{1,3}[、.]|\d{1,2}\.|第[一二三四五六七八九十]+条)"
)


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


def words(line) -> list[Word]:
    """Split a printed line (characters left to right) where the gap is wider than most of a character."""
    out: list[Word] = []
    for ch in line:
        h = ch.y1 - ch.y0
        if out and ch.x0 - out[-1].x1 <= 0.8 * h:
            w = out[-1]
            w.text += ch.text
            w.x1, w.y0, w.y1 = ch.x1, min(w.y0, ch.y0), max(w.y1, ch.y1)
        else:
            out.append(Word(ch.text, ch.x0, ch.x1, ch.y0, ch.y1))
    return out


def _overlap(a: Word, b: Word) -> float:
    return min(a.x1, b.x1) - max(a.x0, b.x0)


def header_band(rows: list[list[Word]], i: int) -> tuple[list[Word], list[Word], int] | None:
    """Header cells stacked from line i on: (columns, other header words, next line index)."""
    columns: list[Word] = []
    used: set[int] = set()
    j = i
    while j < len(rows) and j < i + 8:
        line = rows[j]
        if any(is_figure(w.text) for w in line):
            break
        fresh = [w for w in line if id(w) not in used]
        found = False
        for w in fresh:
            stack = _stack(rows, j, w)
            if stack:
                found = True
                used.update(id(p) for p in stack)
                columns.append(
                    Word(
                        "".join(p.text for p in stack),
                        min(p.x0 for p in stack),
                        max(p.x1 for p in stack),
                        stack[-1].y0,
                        w.y1,
                    )
                )
        # A line of the band adds header cells, or holds only words already stacked or
        # words left of the columns (the note cell beside the header) that label no row.
        left = min((c.x0 for c in columns), default=float("-inf"))
        rest = [w for w in line if id(w) not in used]
        if not found and any(w.x1 > left or _starts_row(w.text) for w in rest):
            break
        j += 1
    if not columns:
        return None
    others = [w for line in rows[i:j] for w in line if id(w) not in used]
    return sorted(columns, key=lambda w: w.x0), others, j


def _stack(rows: list[list[Word]], j: int, top: Word) -> list[Word] | None:
    """The words under `top` that together spell a column label, or None."""
    stack = [top]
    text = squash(top.text)
    if len(text) > 16:
        return None  # prose, not a header cell
    best = 1 if _complete(text) else 0  # the longest label spelled so far ("其他" < "其他结果")
    for k in range(j + 1, min(j + 6, len(rows))):
        if text not in _PREFIXES:
            break
        below = [w for w in rows[k] if _overlap(w, stack[-1]) >= 0.5 * min(w.x1 - w.x0, stack[-1].x1 - stack[-1].x0)]
        if below:
            stack.append(below[0])
            text += squash(below[0].text)
            if _complete(text):
                best = len(stack)
    return stack[:best] or None


def _complete(text: str) -> bool:
    return text in COLUMN_LABELS or bool(labels.active_columns(text))


@dataclass
class _Block:
    """One table row in the making: its label words and a value per column."""

    label: list[Word] = field(default_factory=list)
    values: dict[int, Word] = field(default_factory=dict)
    start: bool = False

    def row(self, ncols: int) -> list[str | None]:
        text = _label_text(self.label)
        if not self.values and not (self.start and _names_row(text)):
            return [text]  # a wrapped label's tail or a group heading: no cells of its own
        return [text] + [self.values[k].text if k in self.values else "" for k in range(ncols)]


def _starts_row(text: str) -> bool:
    s = squash(text)
    return bool(ROW_START.match(s) or labels.match_active_row(s))


def _names_row(label: str) -> bool:
    """Does a label name a template row (so a row of blanks is printed, not a heading)?"""
    s = squash(label)
    return bool(labels.match_application_row(s, s, True) or labels.match_active_row(s))


def _label_text(ws: list[Word]) -> str:
    """Label words read column by column (words that overlap in x form one column), top down."""
    groups: list[list[Word]] = []
    for w in sorted(ws, key=lambda w: w.x0):
        g = next((g for g in groups if any(_overlap(w, o) > 0 for o in g)), None)
        (g.append(w) if g is not None else groups.append([w]))
    groups.sort(key=lambda g: min(w.x0 for w in g))
    return "\n".join(w.text for g in groups for w in sorted(g, key=lambda w: -w.y1))


class ColumnReader:
    """Reads borderless tables page after page; the open columns carry over a page break."""

    def __init__(self) -> None:
        self.columns: list[Word] | None = None
        self.block: _Block | None = None
        self.rows: list[list[str | None]] = []
        self.carry: list[list[Word]] = []  # header lines cut by a page break

    def _fit(self, line: list[Word]) -> tuple[list[Word], dict[int, Word]] | None:
        """Split a line into label words and values by column, or None if it is no table row."""
        assert self.columns
        first = self.columns[0]
        label: list[Word] = []
        values: dict[int, Word] = {}
        for w in line:
            if is_figure(w.text) or (
                len(squash(w.text)) <= 10 and any(c.isdigit() for c in w.text) and w.x0 >= first.x0
            ):
                k = min(range(len(self.columns)), key=lambda k: abs(self.columns[k].cx - w.cx))
                col = self.columns[k]
                if k in values or abs(col.cx - w.cx) > max(col.x1 - col.x0, 2 * (w.y1 - w.y0)):
                    return None
                values[k] = w
            elif w.x1 <= first.cx and not values:
                label.append(w)
            else:
                return None
        return label, values

    def _close_block(self) -> None:
        if self.block and (self.block.label or self.block.values):
            self.rows.append(self.block.row(len(self.columns or [])))
        self.block = None

    def _take(self, label: list[Word], values: dict[int, Word]) -> None:
        start = bool(label) and _starts_row(max(label, key=lambda w: w.x0).text)
        b = self.block
        if b is None or start or (values and (b.values or set(values) & set(b.values))):
            self._close_block()
            b = self.block = _Block(start=start)
        b.label += label
        b.values.update(values)

    def _end_table(self, out: list[tuple[float, str | Table]], top: float) -> None:
        self._close_block()
        if self.rows:
            out.append((top, Table(self.rows)))
        self.rows = []

    def page(self, lines: list[list[Word]]) -> list[tuple[float, str | Table]]:
        """Blocks of one page: (top y, text line or Table)."""
        out: list[tuple[float, str | Table]] = []
        lines = self.carry + lines
        self.carry = []
        table_top = lines[0][0].y1 if lines and lines[0] else 0.0
        i = 0
        while i < len(lines):
            line = lines[i]
            head = header_band(lines, i)
            if head and all(w.x0 >= head[0][0].x0 - 1 and not is_figure(w.text) for ln in lines[head[2] :] for w in ln):
                # A header followed by nothing but header words is cut by the page break:
                # finish its stacks on the next page, placed above that page's lines.
                self.carry = lines[i:]
                for w in (w for ln in self.carry for w in ln):
                    w.y0, w.y1 = w.y0 + _PAGE_ABOVE, w.y1 + _PAGE_ABOVE
                break
            if head:
                self._end_table(out, table_top)
                columns, others, i = head
                self.columns = columns
                # The header as one line, cells in reading order, for the table walk's labels.
                cells = sorted(others + columns, key=lambda w: (w.x0 > columns[0].x0, w.x0, -w.y1))
                out.append((max(w.y1 for w in cells), " ".join(w.text for w in cells)))
                table_top = min(w.y0 for w in cells)
                continue
            fit = self._fit(line) if self.columns else None
            if fit is None:
                self._end_table(out, table_top)
                self.columns = None
                out.append((line[0].y1, " ".join(w.text for w in line)))
            else:
                if not self.rows and self.block is None:
                    table_top = line[0].y1
                self._take(*fit)
            i += 1
        if self.rows:  # the open row may continue on the next page
            out.append((table_top, Table(self.rows)))
            self.rows = []
        return out

    def finish(self) -> list[str | Table]:
        """Whatever row or header line is still open at the end of the document."""
        self._close_block()
        rows, self.rows = self.rows, []
        tail: list[str | Table] = [Table(rows)] if rows else []
        tail += [" ".join(w.text for w in line) for line in self.carry]
        self.carry = []
        return tail
