"""Parse one annual report, in any format, into the canonical ParsedReport.

    >>> from crawler.parsing import parse_file
    >>> report = parse_file("report.pdf")
    >>> report.contract()["cells"]["applications.new.total"]

Parsing observes and never judges: the findings it returns are about reading the document (blank cells,
missing parts, the template used). The consistency rules run one layer up (crawler.rules, through
crawler.ingest.examine, which is what `xxgk parse` and the crawler call).
"""

from __future__ import annotations

from pathlib import Path

from crawler import template as tpl
from crawler.model import CellValue, Finding, ParsedReport, ParseError
from crawler.parsing import meta
from crawler.parsing.document import Document
from crawler.parsing.readers import read_document
from crawler.parsing.sniff import sniff
from crawler.parsing.source import read_file
from crawler.parsing.tables import Extraction, extract
from crawler.parsing.tokens import tokenize

__all__ = ["parse_bytes", "parse_file", "read_file", "build_report", "sniff", "ParseError"]

_AGENCY_SUFFIX = (
    "办公室",
    "局",
    "委员会",
    "人民政府",
    "政府",
    "厅",
    "委",
    "办",
    "中心",
    "院",
    "署",
    "部",
    "处",
    "所",
    "街道办事处",
)


def parse_file(path: str | Path, **options) -> ParsedReport:
    return parse_bytes(read_file(path), **options)


def parse_bytes(data: bytes, **options) -> ParsedReport:
    """Read `data` (format sniffed from content) into a ParsedReport, or raise ParseError."""
    fmt = sniff(data)
    doc = read_document(data, fmt, **options)
    return build_report(doc)


def _better(doc: Document, ex: Extraction) -> tuple[Document, Extraction]:
    if not (ex.incomplete or ex.unreadable) or doc.alternative is None:
        return doc, ex
    alt = doc.alternative()
    ex2 = extract(tokenize(alt))
    if (len(ex2.incomplete), -len(ex2.cells)) < (len(ex.incomplete), -len(ex.cells)):
        return alt, ex2
    return doc, ex


def build_report(doc: Document) -> ParsedReport:
    """The format-independent half: tables, metadata and parse findings from a Document."""
    doc, ex = _better(doc, extract(tokenize(doc)))
    lines = doc.lines()
    title, agency, year = meta.title_from(lines, doc.title_hint)
    full_text = "\n".join(lines)
    if not ex.cells and title is None:
        raise ParseError("not_a_report", "not an annual report: no report title and no template table found")
    period_year = meta.statistics_year(full_text)
    year = year or period_year
    signed = meta.signed_date(lines)
    agency = agency or _signatory(lines)

    findings: list[Finding] = list(doc.extra_findings)
    template = _decide_template(ex, year, findings)
    cells = _within_template(ex.cells, template, findings)
    findings += _value_findings(cells, ex, template)
    return ParsedReport(
        agency=agency,
        year=year,
        template=template,
        title=title,
        signed_date=signed,
        sections=meta.sections(lines),
        cells=cells,
        findings=findings,
        text=full_text,
        format=doc.format,
        pages=doc.pages,
    )


def _signatory(lines: list[str]) -> str | None:
    """The agency named in the 落款, the line above the closing date."""
    tail = [ln.strip() for ln in lines[-12:] if ln.strip()]
    for i in range(len(tail) - 1, 0, -1):
        if meta.parse_date(tail[i]) and tail[i - 1].endswith(_AGENCY_SUFFIX) and len(tail[i - 1]) <= 40:
            return tail[i - 1]
    return None


def _decide_template(ex: Extraction, year: int | None, findings: list[Finding]) -> str | None:
    expected = tpl.expected_template(year)
    if ex.votes:
        template = max(tpl.TEMPLATES, key=lambda t: (ex.votes[t], t == expected))
    else:
        template = expected
    if template and expected and template != expected:
        findings.append(
            Finding(
                "template.year_mismatch",
                "fail",
                "warning",
                f"{year}年度报告应使用{_TEMPLATE_NAME[expected]}，实际使用{_TEMPLATE_NAME[template]}的表格格式",
                data={"year": year, "template": template, "expected": expected},
            )
        )
    return template


_TEMPLATE_NAME = {"2019": "2019年版（国办公开办函〔2019〕60号）", "2021": "2021年版（国办公开办函〔2021〕30号）"}


def _within_template(
    cells: dict[str, CellValue], template: str | None, findings: list[Finding]
) -> dict[str, CellValue]:
    if template is None:
        return cells
    allowed = tpl.keys(template)
    kept = {k: cells[k] for k in allowed if k in cells}
    stray = sorted(set(cells) - set(kept))
    if stray:
        findings.append(
            Finding(
                "parse.mixed_template",
                "info",
                "warning",
                f"表格混用了两种格式：{len(stray)}个单元格不属于{_TEMPLATE_NAME[template]}，未计入",
                stray,
            )
        )
    return kept


def _value_findings(cells: dict[str, CellValue], ex: Extraction, template: str | None) -> list[Finding]:
    out: list[Finding] = []
    index = tpl.cell_index(template) if template else {}
    blank = [k for k, c in cells.items() if c.value is None and c.raw == ""]
    marked = [k for k, c in cells.items() if c.value is None and c.raw != "" and c.raw not in ex.unreadable]
    unreadable = [k for k, c in cells.items() if c.value is None and c.raw in ex.unreadable]
    if blank:
        out.append(Finding("parse.blank_cells", "info", "info", f"{len(blank)}个单元格为空白（未填数字）", blank))
    if marked:
        shown = "、".join(sorted({cells[k].raw for k in marked}))
        out.append(
            Finding(
                "parse.marked_empty",
                "info",
                "warning",
                f"{len(marked)}个单元格填写“{shown}”而非数字，按空值处理",
                marked,
            )
        )
    if unreadable:
        out.append(
            Finding(
                "parse.unreadable_value",
                "fail",
                "warning",
                f"{len(unreadable)}个单元格无法读作数字：" + "、".join(cells[k].raw for k in unreadable),
                unreadable,
            )
        )
    fractional = [
        k for k, c in cells.items() if isinstance(c.value, float) and k in index and index[k].kind != tpl.Kind.AMOUNT
    ]
    if fractional:
        out.append(
            Finding(
                "parse.fractional_count",
                "fail",
                "warning",
                "件数出现小数：" + "、".join(f"{cells[k].raw}" for k in fractional),
                fractional,
            )
        )
    if ex.incomplete:
        rows = sorted(set(ex.incomplete))
        out.append(Finding("parse.incomplete_row", "fail", "warning", f"{len(rows)}行表格的单元格少于模板列数", rows))
    if template:
        missing = [k for k in tpl.keys(template) if k not in cells]
        if missing:
            tables = sorted({index[k].table for k in missing})
            out.append(
                Finding(
                    "parse.missing_cells",
                    "info",
                    "warning" if len(missing) < len(index) else "error",
                    f"文件中缺少{len(missing)}个模板单元格（涉及表格：{'、'.join(tables)}）",
                    missing,
                )
            )
    return out
