"""OCR never accuses an agency: a rule that fails over figures OCR read needs a human look, not an alert.

OCR can misread a figure with confidence, and a sum that fails over such figures says as much about the
reading as about the report. The parse says which cells OCR read (the `cells` of its parse.ocr finding) and
whether the report's text was read by OCR too (`data["text"]`: a scan, as opposed to an HTML page whose tables
alone were images). A rule that fails over any of those cells, or a text rule over OCR'd text, is reported as
`not_assessable` with the arithmetic kept and `data["ocr"]` naming the OCR cells: it stays on the report's
page for a journalist to check against the original, and raises no 数据不一致 alert (alerts are raised from
failing findings only). When the same report is later read from a text layer, the rule fails or passes on
its own figures again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from crawler.model import Finding

OCR_RULE = "parse.ocr"
_TEXT_RULES = ("text.", "meta.")  # rules over the report's running text


@dataclass(frozen=True)
class OcrProvenance:
    cells: frozenset[str]
    text: bool  # the running text was read by OCR too

    def __bool__(self) -> bool:
        return bool(self.cells) or self.text


def provenance(parse_findings: Iterable[Finding]) -> OcrProvenance:
    ocr = [f for f in parse_findings if f.rule == OCR_RULE]
    return OcrProvenance(frozenset(k for f in ocr for k in f.cells), any(f.data.get("text", True) for f in ocr))


def read_by_ocr(finding: Finding, ocr: OcrProvenance) -> list[str] | None:
    """The OCR cells a failing finding rests on (possibly none, for a text rule over OCR'd text), or None when
    it does not rest on OCR at all."""
    cells = sorted(set(finding.cells) & ocr.cells)
    if cells or (ocr.text and finding.rule.startswith(_TEXT_RULES)):
        return cells
    return None


def unaccused(findings: list[Finding], ocr: OcrProvenance) -> list[Finding]:
    """The findings with every failure that rests on OCR turned into a request for a human look."""
    if not ocr:
        return findings
    out = []
    for f in findings:
        cells = read_by_ocr(f, ocr) if f.status == "fail" else None
        out.append(f if cells is None else human_look(f, cells))
    return out


def human_look(failed: Finding, cells: list[str]) -> Finding:
    """A failing finding that rests on OCR figures (`cells`), as a request to check the original."""
    return replace(
        failed,
        status="not_assessable",
        severity="warning",
        message=f"{failed.message}（涉及OCR识别的数字，可能是识别误差：需人工对照原件核实，不作为数据不一致）",
        data={**failed.data, "ocr": cells, "ocr_failed": True},
    )
