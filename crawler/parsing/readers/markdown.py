"""Markdown as PDF→Markdown converters write it (MinerU, marker, docling) and as people paste it.

Pipe tables and HTML <table>s become grids; headings, emphasis, links and escapes are read as plain text. What
converters do to a table is undone before the template walk sees it:

- a table cut by a page break comes out as several tables, often under a heading (a running header, 续表) or a
  page number: pieces with the same columns are joined again, a row cut in two is put back together, and the
  lines between go after the table (those naming a part of the template, 第二十条…, stay inside it);
- a header row repeated on every piece is kept once;
- merged cells come out blank (marker) or repeated in every position they cover (docling): a repeated label is
  a covered position (None), and so is a blank in a column that holds labels only;
- a header the converter could not read becomes generic names (数据1…数据7, Column 1…). Such a header says
  nothing; the columns are taken in the template's order only when the template's own totals confirm it (each
  总计 column equals the sum of the columns before it, row by row). Otherwise the table's figures are not read
  (printed as unreadable) and a finding says why: a column order guessed wrong would accuse the agency.
"""

from __future__ import annotations

import html
import re

from crawler import template as tpl
from crawler.model import Finding, ParseError
from crawler.parsing import labels, limits
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.html import read_html
from crawler.parsing.readers.pdf_columns import COLUMN_LABELS, ROW_START
from crawler.parsing.readers.pdf_layout import join_split_row
from crawler.parsing.readers.text import decode
from crawler.parsing.sniff import MD_DELIMITER as _DELIMITER
from crawler.parsing.values import UNREADABLE, classify, is_figure
from crawler.text import squash

_PIPE_SPLIT = re.compile(r"(?<!\\)\|")
_GENERIC = re.compile(r"^(?:数据|列|栏|字段|column|col|field|unnamed:?)\s*[_\-]?\s*\d{1,3}$", re.I)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_BREAK = re.compile(r"^\s{0,3}(?:(?:[-*_]\s*){3,}|=+\s*)$")  # a thematic break, or a setext heading's underline
_MATH_NUMBER = re.compile(r"\$\s*([-+]?[\d\s.,]+%?)\s*\$")  # $1 2 3$: a figure OCR'd into LaTeX (MinerU)
_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")
_BR = re.compile(r"<br\s*/?>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]{0,200}>|<!--.*?-->")
_BULLET = re.compile(r"^\s{0,3}(?:[-*+]|>+)\s+")
_SECTION = re.compile(r"^[一二三四五六七八九十]+[、.]")
# A table of the template opens with one of these (its header), so a piece holding one starts a new table.
_OPENERS = ("申请人情况", "行政复议", "行政诉讼", "信息内容", "第二十条")
_REVIEW_LABELS = [f"{g} {c}" for _, g in tpl.REVIEW_GROUPS for _, c in tpl.REVIEW_COLUMNS]
_APPLICANT_LABELS = [label for _, label in tpl.APPLICANT_COLUMNS]
_TABLE_NAME = {"applications": "表三（收到和处理政府信息公开申请情况）", "review": "表四（行政复议、行政诉讼情况）"}


def inline(text: str) -> str:
    """Markdown inline markup to the text it prints: images dropped, links to their text, emphasis and
    escapes removed, <br> to a line break, other tags and entities to their text."""
    text = _IMAGE.sub("", text)
    text = _MATH_NUMBER.sub(lambda m: re.sub(r"\s+", "", m[1]), text)
    text = _LINK.sub(r"\1", text)
    text = _BR.sub("\n", text)
    text = _TAG.sub("", text)
    for _ in range(2):  # ***a*** nests once
        text = _EMPHASIS.sub(r"\2", text)
    text = _ESCAPE.sub(r"\1", text)
    return html.unescape(text).replace("\xa0", " ").strip()


def _pipe_cells(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [inline(c) for c in _PIPE_SPLIT.split(s)]


def _is_pipe_row(line: str) -> bool:
    s = line.strip()
    return s.startswith("|") and s.endswith("|") and len(s) > 1


class _Reader:
    def __init__(self, lines: list[str]):
        self.lines = lines
        self.budget = limits.Budget("Markdown")
        self.blocks: list[str | Table] = []

    def run(self) -> list[str | Table]:
        i, fenced = 0, False
        while i < len(self.lines):
            line = self.lines[i]
            if _FENCE.match(line):
                fenced = not fenced
                i += 1
            elif fenced:
                self._text(line, plain=True)
                i += 1
            elif "<table" in line.lower():
                i = self._html_table(i)
            elif self._table_starts(i):
                i = self._pipe_table(i)
            else:
                self._text(line)
                i += 1
        return self.blocks

    def _table_starts(self, i: int) -> bool:
        line = self.lines[i]
        nxt = self.lines[i + 1] if i + 1 < len(self.lines) else ""
        if "|" in line and _DELIMITER.match(nxt):
            return True
        return _is_pipe_row(line) and _is_pipe_row(nxt)  # pipe rows without a delimiter row

    def _pipe_table(self, i: int) -> int:
        rows: list[list[str | None]] = []
        while i < len(self.lines) and "|" in self.lines[i] and self.lines[i].strip():
            line = self.lines[i]
            i += 1
            if _DELIMITER.match(line):
                continue
            cells: list[str | None] = list(_pipe_cells(line))
            self.budget.take(max(1, len(cells)))
            rows.append(cells)
        width = max(len(r) for r in rows)
        self.budget.take(sum(width - len(r) for r in rows))  # short rows are padded to the widest
        self.blocks.append(Table([r + [""] * (width - len(r)) for r in rows]))
        return i

    def _html_table(self, i: int) -> int:
        """The lines from an opening <table> to the line that closes it, read by the HTML reader."""
        depth, j = 0, i
        while j < len(self.lines):
            low = self.lines[j].lower()
            depth += low.count("<table") - low.count("</table")
            j += 1
            if depth <= 0:
                break
        chunk = "\n".join(self.lines[i:j])
        try:
            self.blocks.extend(read_html(chunk.encode("utf-8"), self.budget).blocks)
        except ParseError as e:
            if e.reason == "too_large":
                raise
        return j

    def _text(self, line: str, plain: bool = False) -> None:
        if not plain:
            if _BREAK.match(line) or _DELIMITER.match(line):
                return
            line = _BULLET.sub("", _HEADING.sub("", line)).rstrip("#").strip()
            line = inline(line)
        self.blocks.extend(part.strip() for part in line.split("\n") if part.strip())


# ---- undoing what converters do to tables ----------------------------------------------------
def _has_figures(row: list[str | None]) -> bool:
    return any(is_figure(c) for c in row if c)


def _key(row: list[str | None]) -> tuple[str, ...]:
    return tuple(squash(c) for c in row if c)


def _generic(row: list[str | None]) -> bool:
    """A header of names a converter made up: 数据1, 数据2… (label cells may stand before them)."""
    cells = [c.strip() for c in row if c and c.strip()]
    flags = [bool(_GENERIC.match(c)) for c in cells]
    return sum(flags) >= 2 and all(flags[flags.index(True) :])


def _opens_table(table: Table) -> bool:
    for row in table.rows[:3]:
        if _has_figures(row):
            return False
        if any(w in squash(" ".join(c for c in row if c)) for w in _OPENERS):
            return True
    return False


def _header_band(table: Table) -> list[tuple[str, ...]]:
    band = []
    for row in table.rows:
        if _has_figures(row):
            break
        band.append(_key(row))
    return band


def _names_template_part(line: str) -> bool:
    """A line between two pieces of a table that belongs inside it: a block heading of table 二, or a row label
    the converter printed as a heading (（三）不予公开, 1.属于国家秘密)."""
    s = squash(line)
    return "第二十条" in s or "信息内容" in s or labels.match_active_row(s) is not None or bool(ROW_START.match(s))


def _furniture(line: str) -> bool:
    """A line a page break leaves between two pieces of a table: a page number, a running header, 续表."""
    s = squash(line)
    return len(s) <= 40 and "。" not in s and not _SECTION.match(s)


def _rejoin(blocks: list[str | Table]) -> list[str | Table]:
    from crawler.parsing.readers.pdf import is_page_number  # pdfium: loaded only when tables are there

    out: list[str | Table] = []
    for block in blocks:
        if isinstance(block, Table):
            k = next((n for n in range(len(out) - 1, -1, -1) if isinstance(out[n], Table)), None)
            between = out[k + 1 :] if k is not None else []
            prev = out[k] if k is not None else None
            if (
                isinstance(prev, Table)
                and prev.rows
                and block.rows
                and len(prev.rows[0]) == len(block.rows[0])
                and all(isinstance(b, str) and _furniture(b) for b in between)
                and (not _opens_table(block) or _header_band(block)[:1] == _header_band(prev)[:1])
            ):
                del out[k + 1 :]
                width = len(prev.rows[0])
                inside = [b for b in between if isinstance(b, str) and _names_template_part(b)]
                moved = [b for b in between if b not in inside and not is_page_number(b)]
                prev.rows.extend([[b] + [None] * (width - 1) for b in inside])  # type: ignore[list-item]
                band = set(_header_band(prev))
                while (
                    block.rows
                    and not _has_figures(block.rows[0])
                    and (_key(block.rows[0]) in band or _generic(block.rows[0]))
                ):
                    del block.rows[0]  # the header printed again on the piece (kept once, above)
                if not inside and block.rows:
                    join_split_row(prev, block)
                prev.rows.extend(block.rows)
                out.extend(moved)
                continue
        out.append(block)
    return out


def _covered(table: Table) -> None:
    """Merged cells flattened by a converter become covered positions again: a label repeated to the right
    of itself or below itself (docling), a blank in a column that holds labels only (marker)."""
    rows = table.rows
    if not rows:
        return
    width = max(len(r) for r in rows)
    for r in rows:
        r.extend([""] * (width - len(r)))
    # Labels stand left of the figures: the columns before the first one that holds a figure.
    first = next((c for c in range(width) if any(is_figure(r[c]) for r in rows if r[c])), None)
    if first is None:
        return  # no figures at all: nothing tells labels from blank values
    label_cols = set(range(first))
    original = [list(r) for r in rows]
    for i, row in enumerate(rows):
        # A row of labels only, one of them over figures of other rows, is a header: its blanks are covered.
        header = not _has_figures(row) and any(cell and c not in label_cols for c, cell in enumerate(row))
        for c, cell in enumerate(row):
            if not cell:
                if cell == "" and (header or (c in label_cols and any(original[i][:c]))):
                    row[c] = None
                continue
            if is_figure(cell):
                continue
            if c > 0 and original[i][c - 1] == cell:
                row[c] = None
            elif i > 0 and original[i - 1][c] == cell and c in label_cols:
                row[c] = None


def _repeated_headers(table: Table) -> None:
    """Drop the header printed again inside the table (on each page of the original), whole or in part:
    a row without figures whose cells all come from the header above. Table 二's block headings and
    column rows (第二十条…, 信息内容…) stay: they recur by design, and the walk reads each again."""
    band = _header_band(table)
    words = {w for row in band for w in row}
    seen_figures = False
    kept = []
    for row in table.rows:
        key = _key(row)
        if _has_figures(row):
            seen_figures = True
        elif (
            seen_figures
            and key
            and (key in band or (len(key) >= 2 and set(key) <= words))
            and not any(_names_template_part(c) for c in key)
        ):
            continue
        kept.append(row)
    table.rows = kept


def _numbers(cells: list[str | None]) -> list[float] | None:
    """The row's figures, a blank or a dash as 0 (for telling which column is the total, not for judging)."""
    out: list[float] = []
    for c in cells:
        v = classify(c or "")
        if v is None or (v.number is None and v.raw and not v.marked):
            return None
        out.append(v.number or 0)
    return out


def _confirmed(table: Table, first: int, kind: str) -> tuple[int, bool]:
    """How many rows the template's totals were checked on, and whether every one held."""
    groups = [(0, 7)] if kind == "applications" else [(g * 5, 5) for g in range(3)]
    checked, held = 0, True
    for row in table.rows:
        values = _numbers(row[first:])
        if values is None or len(values) != sum(n for _, n in groups):
            continue
        for start, n in groups:
            part = values[start : start + n]
            if not any(part):
                continue  # a row of zeros holds in any column order
            checked += 1
            held = held and abs(part[-1] - sum(part[:-1])) < 1e-6
    return checked, held


def _names_columns(row: list[str | None]) -> bool:
    """A row of the template's own column labels (自然人, 商业企业…; 结果维持…; 信息内容 and table 二's)."""
    if _has_figures(row):
        return False
    cells = [squash(c) for c in row if c]
    return "信息内容" in cells or sum(1 for c in cells if c in COLUMN_LABELS) >= 2


def _generic_columns(table: Table, findings: list[Finding]) -> None:
    generic = [r for r in table.rows if _generic(r)]
    if not generic:
        return
    names = [c for c in generic[0] if c and _GENERIC.match(c.strip())]
    body = [r for r in table.rows if not _generic(r)]
    if any(_names_columns(r) for r in body):
        table.rows = body  # the table's own header came through as rows: the made-up names say nothing more
        return
    width = max((len(r) for r in body), default=0)
    figure_cols = [c for c in range(width) if any(is_figure(r[c]) for r in body if c < len(r) and r[c])]
    first = figure_cols[0] if figure_cols else width
    count = width - first
    kind = {7: "applications", 15: "review"}.get(count)
    checked, held = _confirmed(Table(body), first, kind) if kind else (0, False)
    zeros = not any((v := classify(c or "")) and v.number for r in body for c in r[first:])
    data = {"headers": names, "columns": count}
    if kind and held and (checked or zeros):
        header = _APPLICANT_LABELS if kind == "applications" else _REVIEW_LABELS
        table.rows = [[*([None] * first), *header], *body]  # the template's labels in place of the made-up ones
        findings.append(
            Finding(
                "parse.columns_by_order",
                "info",
                "info",
                f"{_TABLE_NAME[kind]}的列名为通用名称（{'、'.join(names[:3])}…），按模板列序读取："
                + (f"{checked}处总计等于其前各列之和，列序得到确认" if checked else "表中数字均为0，列序不影响读数"),
                data={**data, "table": kind, "checked": checked},
            )
        )
        return
    for row in table.rows:  # the figures cannot be tied to columns: none is asserted
        for c in range(first, len(row)):
            if is_figure(row[c]):
                row[c] = UNREADABLE
    why = (
        f"按模板列序读取时有总计不等于其前各列之和（核对{checked}处）"
        if kind and checked
        else "无法用模板的合计关系确认各列对应的项目"
    )
    findings.append(
        Finding(
            "parse.columns_unconfirmed",
            "fail",
            "warning",
            f"一个表格的列名为通用名称（{'、'.join(names[:3])}…，共{count}列数字），{why}；该表数字未读取，需人工核对原件",
            data={**data, "table": kind, "checked": checked},
        )
    )


def read_markdown(data: bytes | str) -> Document:
    text = data if isinstance(data, str) else decode(data)
    lines = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > limits.MARKDOWN_LINES:
        raise limits.too_large(f"the Markdown file has more than {limits.MARKDOWN_LINES:,} lines")
    blocks = _rejoin(_Reader(lines).run())
    findings: list[Finding] = []
    for block in blocks:
        if isinstance(block, Table):
            _generic_columns(block, findings)
            _repeated_headers(block)
            _covered(block)
    if not blocks:
        raise ParseError("no_text", "the Markdown file has no text")
    return Document(blocks, "markdown", extra_findings=findings)
