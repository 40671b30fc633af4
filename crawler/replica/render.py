"""Annual reports rendered from figures, in our own words and layout: HTML, DOCX, and (through LibreOffice) PDF
and Word-97 DOC.

A report is a title, paragraphs and three tables laid out as the national template prints them (row groups
merged vertically, 法人或其他组织 and 行政诉讼 merged horizontally). The tables are a grid of `Span`s that both the
HTML and the DOCX renderers draw. PDF and DOC conversions are slow (LibreOffice), so they are cached on disk by
the report's content (XXGK_CACHE, default ~/.cache/xxgk/replica).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crawler import template as tpl
from crawler.replica.figures import Figures

RENDER_VERSION = "3"  # bump when the layout changes: cached conversions are keyed by it


@dataclass
class Span:
    text: str
    rows: int = 1
    cols: int = 1


Grid = list[list[Span]]  # rows as HTML lists them: positions covered by a merge are not listed


@dataclass
class Report:
    figures: Figures
    title: str
    signed: date
    note: str | None = None  # e.g. an erratum line added when the report was edited after publication

    @property
    def agency(self) -> str:
        return self.figures.agency

    @property
    def year(self) -> int:
        return self.figures.year


def _num(value, kind: tpl.Kind) -> str:
    if value is None:
        return ""
    if kind == tpl.Kind.CHANGE and value != 0:
        return f"增{value}" if value > 0 else f"减{-value}"
    return repr(value) if isinstance(value, float) else str(value)


_KINDS = {c.key: c.kind for t in tpl.TEMPLATES for c in tpl.cells(t)}


def _values(cells: dict, prefix: str, columns) -> list[Span]:
    return [Span(_num(cells.get(f"{prefix}.{c}"), _KINDS[f"{prefix}.{c}"])) for c in columns]


_ACTIVE_HEADERS = {
    "2019": {
        "第二十条第（一）项": ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
        "第二十条第（五）项": ["上一年项目数量", "本年增/减", "处理决定数量"],
        "第二十条第（六）项": ["上一年项目数量", "本年增/减", "处理决定数量"],
        "第二十条第（八）项": ["上一年项目数量", "本年增/减"],
        "第二十条第（九）项": ["采购项目数量", "采购总金额"],
    },
    "2021": {
        "第二十条第（一）项": ["本年制发件数", "本年废止件数", "现行有效件数"],
        "第二十条第（五）项": ["本年处理决定数量"],
        "第二十条第（六）项": ["本年处理决定数量"],
        "第二十条第（八）项": ["本年收费金额（单位：万元）"],
    },
}


def _stretch(spans: list[Span], width: int = 3) -> list[Span]:
    spans[-1].cols = width - len(spans) + 1
    return spans


def active_grid(f: Figures) -> Grid:
    grid: Grid = []
    block_seen: set[str] = set()
    for row, label, block, cols in tpl.ACTIVE_ROWS[f.template]:
        if block not in block_seen:
            block_seen.add(block)
            grid.append([Span(block, cols=4)])
            grid.append([Span("信息内容"), *_stretch([Span(h) for h in _ACTIVE_HEADERS[f.template][block]])])
        grid.append([Span(label), *_stretch(_values(f.cells, f"active.{row}", cols))])
    return grid


def applications_grid(f: Figures) -> Grid:
    columns = [c for c, _ in tpl.APPLICANT_COLUMNS]
    grid: Grid = [
        [
            Span("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rows=3, cols=3),
            Span("申请人情况", cols=7),
        ],
        [Span("自然人", rows=2), Span("法人或其他组织", cols=5), Span("总计", rows=2)],
        [Span(label) for c, label in tpl.APPLICANT_COLUMNS if c not in ("natural_person", "total")],
    ]
    rows = tpl.application_rows(f.template)
    results = tpl.result_rows(f.template)
    groups: dict[str, list[tuple[str, str]]] = {}
    for row, label in rows:
        if row in results and "." in row:
            group, _, item = label.partition(" ")
            groups.setdefault(group, []).append((row, item))
    result_lines = sum(len(v) for v in groups.values()) + sum(1 for r in results if "." not in r) + 1
    first_result = True
    done_groups: set[str] = set()
    for row, label in rows:
        values = _values(f.cells, f"applications.{row}", columns)
        if row in ("new", "carried_over", "carry_forward"):
            grid.append([Span(label, cols=3), *values])
            continue
        lead = [Span("三、本年度办理结果", rows=result_lines)] if first_result else []
        first_result = False
        if "." in row and row in results:
            group, _, item = label.partition(" ")
            if group not in done_groups:
                done_groups.add(group)
                lead.append(Span(group, rows=len(groups[group])))
            grid.append([*lead, Span(item), *values])
        else:
            grid.append([*lead, Span(label, cols=2), *values])
    return grid


def review_grid(f: Figures) -> Grid:
    heads = [label for _, label in tpl.REVIEW_COLUMNS]
    return [
        [Span("行政复议", cols=5), Span("行政诉讼", cols=10)],
        [*(Span(h, rows=2) for h in heads), Span("未经复议直接起诉", cols=5), Span("复议后起诉", cols=5)],
        [Span(h) for h in heads * 2],
        [
            Span(_num(f.cells.get(f"{g}.{c}"), tpl.Kind.COUNT))
            for g, _ in tpl.REVIEW_GROUPS
            for c, _ in tpl.REVIEW_COLUMNS
        ],
    ]


def paragraphs(r: Report) -> list[str | Grid]:
    """The report body: our own wording around the figures, in the six sections every report has."""
    f = r.figures
    c = f.cells
    litigation = (c.get("litigation_direct.total") or 0) + (c.get("litigation_after_review.total") or 0)
    blocks: list[str | Grid] = [
        f"为贯彻落实《中华人民共和国政府信息公开条例》，现公布{f.agency}{f.year}年度政府信息公开工作年度报告。"
        f"本报告中所列数据的统计期限自{f.year}年1月1日起至{f.year}年12月31日止。如对本报告有疑问，请与{f.agency}联系。",
        "一、总体情况",
        f"{f.year}年，{f.agency}坚持以公开为常态、不公开为例外，围绕主动公开、依申请公开、政府信息管理、平台建设和监督保障等方面扎实推进政府信息公开工作。",
        f"依申请公开方面，本年度共收到政府信息公开申请{f.total('new')}件，上年结转{f.total('carried_over')}件，"
        f"结转下年度继续办理{f.total('carry_forward')}件，均在法定期限内依法依规答复。",
        "二、主动公开政府信息情况",
        active_grid(f),
        "三、收到和处理政府信息公开申请情况",
        applications_grid(f),
        "四、政府信息公开行政复议、行政诉讼情况",
        review_grid(f),
        f"本年度因政府信息公开工作被申请行政复议{c.get('review.total') or 0}件，被提起行政诉讼{litigation}件。",
        "五、存在的主要问题及改进情况",
        "政府信息公开工作仍存在公开内容不够全面、解读形式较为单一等问题。下一步将加强业务培训，提高公开质量。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。" if f.template == "2021" else "无其他需要报告的事项。",
    ]
    if r.note:
        blocks.append(r.note)
    return blocks


def _chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- HTML ----------------------------------------------------------------------------------------------------
def grid_html(grid: Grid) -> str:
    rows = []
    for row in grid:
        cells = "".join(
            f"<td{f' rowspan={s.rows}' if s.rows > 1 else ''}{f' colspan={s.cols}' if s.cols > 1 else ''}>{html.escape(s.text)}</td>"
            for s in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<table border="1" cellspacing="0" cellpadding="4" style="border-collapse:collapse">'
        + "".join(rows)
        + "</table>"
    )


def article_html(r: Report) -> str:
    """The report as portals print it inside the page's content area."""
    parts = [f'<p style="text-align:center"><strong>{html.escape(r.title)}</strong></p>']
    for block in paragraphs(r):
        if isinstance(block, str):
            parts.append(f"<p>{html.escape(block)}</p>")
        else:
            parts.append(grid_html(block))
    parts.append(f'<p style="text-align:right">{html.escape(r.agency)}</p>')
    parts.append(f'<p style="text-align:right">{_chinese_date(r.signed)}</p>')
    return "\n".join(parts)


# --- DOCX ----------------------------------------------------------------------------------------------------
def to_docx(r: Report) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.add_run(r.title).bold = True
    for block in paragraphs(r):
        if isinstance(block, str):
            doc.add_paragraph(block)
        else:
            _docx_table(doc, block)
    for line in (r.agency, _chinese_date(r.signed)):
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _positions(grid: Grid) -> tuple[list[tuple[int, int, Span]], int]:
    """Each span's top-left (row, column) in the full grid, skipping positions covered by earlier merges."""
    covered: set[tuple[int, int]] = set()
    out = []
    width = 0
    for r, row in enumerate(grid):
        c = 0
        for span in row:
            while (r, c) in covered:
                c += 1
            out.append((r, c, span))
            for dr in range(span.rows):
                for dc in range(span.cols):
                    covered.add((r + dr, c + dc))
            c += span.cols
            width = max(width, c)
    return out, width


# Column widths in inches as the template prints them: wide label columns, narrow figure columns (6.5in of text).
_WIDTHS = {4: [2.0, 1.5, 1.5, 1.5], 10: [0.6, 0.9, 1.57] + [0.49] * 7, 15: [0.433] * 15}


def _docx_table(doc, grid: Grid) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Inches

    placed, width = _positions(grid)
    table = doc.add_table(rows=len(grid), cols=width)
    table.style = "Table Grid"
    table.autofit = False
    cells = table._cells  # once: table.cell() recomputes the whole grid on every call
    for i, w in enumerate(_WIDTHS.get(width, [6.5 / width] * width)):
        table.columns[i].width = Inches(w)  # the grid LibreOffice lays out by
        for r in range(len(grid)):
            cells[r * width + i].width = Inches(w)  # and each cell, as Word does
    for row in table.rows:  # a row is never split over two pages, as in most typeset reports
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        row._tr.trPr[-1].set(qn("w:val"), "true")
    for r, c, span in placed:
        cell = cells[r * width + c]
        if span.rows > 1 or span.cols > 1:
            cell = cell.merge(cells[(r + span.rows - 1) * width + c + span.cols - 1])
        cell.text = span.text


# --- PDF and DOC through LibreOffice ----------------------------------------------------------------------------
def cache_dir() -> Path:
    root = os.environ.get("XXGK_CACHE") or Path.home() / ".cache" / "xxgk"
    path = Path(root) / "replica"
    path.mkdir(parents=True, exist_ok=True)
    return path


def content_key(r: Report) -> str:
    basis = json.dumps(
        [RENDER_VERSION, r.title, r.signed.isoformat(), r.note, r.figures.template, sorted(r.figures.cells.items())],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(basis.encode()).hexdigest()[:24]


def converted(reports: list[Report], fmt: str) -> dict[str, bytes]:
    """content_key → bytes in `fmt` (docx, pdf or doc), making what the cache lacks: DOCX with python-docx,
    PDF and DOC in one LibreOffice run."""
    from crawler.parsing.readers.office import convert

    root = cache_dir()
    out: dict[str, bytes] = {}
    todo: dict[str, Report] = {}
    for r in reports:
        key = content_key(r)
        cached = root / f"{key}.{fmt}"
        if cached.is_file() and cached.stat().st_size:
            out[key] = cached.read_bytes()
        else:
            todo[key] = r
    if todo and fmt == "docx":
        for key, r in todo.items():
            out[key] = _cache_put(root / f"{key}.docx", to_docx(r))
    elif todo:
        with tempfile.TemporaryDirectory(prefix="xxgk-replica-") as tmp:
            sources = []
            for key, r in todo.items():
                src = Path(tmp) / f"{key}.docx"
                src.write_bytes(to_docx(r))
                sources.append(src)
            outdir = Path(tmp) / "out"
            outdir.mkdir()
            convert(sources, fmt, outdir, timeout=max(120.0, 10.0 * len(sources)))
            for key in todo:
                made = outdir / f"{key}.{fmt}"
                if not made.is_file():
                    raise RuntimeError(f"LibreOffice did not produce {made.name}")
                out[key] = _cache_put(root / f"{key}.{fmt}", made.read_bytes())
    return out


def _cache_put(path: Path, data: bytes) -> bytes:
    """Write-then-rename: a concurrent reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data
