"""Consistency checks on annual reports.

`run_document_rules(report)` runs on every parsed document (crawler.ingest.examine appends its
results to the report's findings); a failure over figures OCR read is a request for a human look, not a
failure (crawler.rules.provenance). Cross-year rules and the deadline monitor need the archive and
run from `xxgk check`.
"""

from __future__ import annotations

from crawler.model import Finding, ParsedReport
from crawler.rules.engine import evaluate_all
from crawler.rules.identities import identities
from crawler.rules.narrative import text_findings
from crawler.rules.period import period_finding
from crawler.rules.provenance import provenance, unaccused

__all__ = ["run_document_rules", "table_findings"]

# Parse findings whose cells hold text that is not a number: sums over them cannot be assessed.
_UNREADABLE_RULES = ("parse.unreadable_value",)


def table_findings(template: str, values, unreadable=()) -> list[Finding]:
    """The in-table identities over a plain {key: value | None} mapping (None = blank)."""
    return evaluate_all(identities(template), template, values, unreadable)


def run_document_rules(report: ParsedReport) -> list[Finding]:
    """Every rule that needs only the document itself: in-table sums, text against table, period."""
    out: list[Finding] = [period_finding(report.title, report.year, report.text)]
    if report.template is None:
        out.append(
            Finding(
                "sum.tables", "not_assessable", "info", "未识别出模板表格，无法核对表格数字", data={"scope": "tables"}
            )
        )
        return unaccused(out, provenance(report.findings))
    values = report.values()
    unreadable = {k for f in report.findings if f.rule in _UNREADABLE_RULES for k in f.cells}
    out += table_findings(report.template, values, unreadable)
    out += text_findings(report.sections, report.text, report.template, values)
    return unaccused(out, provenance(report.findings))
