"""OCR never accuses an agency: a rule failing over figures OCR read asks for a human look, raises no alert.

The real 洪泽区 2023 report prints a real inconsistency (table 四's 总计 0 beside 10+1 复议). Read from its text
layer the rule fails and the archive lists it for a 数据不一致 alert; with the same cells marked as read by OCR
(the parse.ocr finding's cells, what crawler.parsing.ocr gives every scanned page) the failure is kept with its
arithmetic but as not_assessable, naming the OCR cells, and the archive lists nothing to alert on.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from crawler import template as tpl
from crawler.ingest import examine_file, ingest_parsed
from crawler.model import Finding, IncomingDocument
from crawler.rules import run_document_rules
from crawler.rules.cross_year import CARRY_RULE, YearReport, cross_identities, cross_year_findings
from crawler.rules.identities import REVIEW_TOTAL
from crawler.rules.titles import DATA_RULE_PREFIXES
from storage import Archive


@pytest.fixture(scope="module")
def hongze(shared):
    path = shared / "real2" / "huaian-hongze-district-gov-2023.pdf"
    report = examine_file(path)
    report.findings = [f for f in report.findings if f.rule.startswith("parse.")]  # the parse alone
    return path, report


def _ocr(report, cells, text: bool):
    marked = replace(report, findings=list(report.findings))
    marked.findings.append(Finding("parse.ocr", "info", "info", "OCR", sorted(cells), data={"text": text}))
    return marked


def _failing(findings):
    return [f for f in findings if f.status == "fail" and f.rule.startswith(DATA_RULE_PREFIXES)]


def test_the_real_inconsistency_fails_from_the_text_layer(hongze):
    _, report = hongze
    failing = _failing(run_document_rules(report))
    assert any(f.rule.startswith("sum.") for f in failing)


def test_the_same_failure_over_ocr_figures_asks_for_a_human_look(hongze):
    _, report = hongze
    plain = {f.fingerprint: f for f in run_document_rules(report)}
    marked = run_document_rules(_ocr(report, report.cells, text=True))
    assert not _failing(marked)
    for f in marked:
        before = plain[f.fingerprint]  # the same finding (rule, cells, scope): its alert identity is kept
        if before.status != "fail":
            assert f == before
            continue
        assert f.status == "not_assessable"
        assert f.data["ocr_failed"] is True and f.data.get("diff") == before.data.get("diff")
        assert "人工对照原件" in f.message
        assert set(f.data["ocr"]) <= set(f.cells)


def test_a_failure_over_text_layer_figures_still_fails_beside_ocr_ones(hongze):
    """Only the tables 三 were images (an HTML page): table 四's failure rests on no OCR figure and stands."""
    _, report = hongze
    ocr_cells = {k for k in report.cells if k.startswith("applications.")}
    marked = run_document_rules(_ocr(report, ocr_cells, text=False))
    failing = _failing(marked)
    assert REVIEW_TOTAL in {f.rule for f in failing}
    assert all(not set(f.cells) & ocr_cells for f in failing)


def test_the_archive_lists_no_data_alert_for_an_ocr_report(hongze, tmp_path):
    path, report = hongze
    data = path.read_bytes()
    with Archive(tmp_path / "x.db") as archive:
        text_layer = replace(report, findings=report.findings + run_document_rules(report))
        ingest_parsed(archive, IncomingDocument(data, url="https://example.gov.cn/2023.pdf"), text_layer)
        assert list(archive.alerts.failing_findings(DATA_RULE_PREFIXES))
    with Archive(tmp_path / "y.db") as archive:
        scanned = _ocr(report, report.cells, text=True)
        scanned.findings += run_document_rules(scanned)
        ingest_parsed(archive, IncomingDocument(data, url="https://example.gov.cn/2023.pdf"), scanned)
        assert not list(archive.alerts.failing_findings(DATA_RULE_PREFIXES))


def test_a_cross_year_difference_over_ocr_figures_asks_for_a_human_look():
    """上年结转 this year against 结转下年度 last year: a real difference fails; read by OCR in either report, it asks
    for a look at the original."""
    ident = next(i for i in cross_identities("2021", "2021") if i.rule == CARRY_RULE)
    prev = dict.fromkeys(tpl.keys("2021"), 0) | dict.fromkeys(ident.last_year, 5)
    cur = dict.fromkeys(tpl.keys("2021"), 0) | {ident.this_year: 7}

    def carry(**ocr):
        found = cross_year_findings(
            YearReport(2023, "2021", prev, ocr.get("prev", frozenset())),
            YearReport(2024, "2021", cur, ocr.get("cur", frozenset())),
        )
        return next(f for f in found if f.rule == CARRY_RULE and f.cells == [ident.this_year])

    assert carry().status == "fail"
    for ocr in ({"cur": frozenset([ident.this_year])}, {"prev": frozenset(ident.last_year)}):
        f = carry(**ocr)
        assert f.status == "not_assessable" and f.data["ocr"] and f.fingerprint == carry().fingerprint


def test_the_monitor_tells_the_cross_year_rule_which_figures_ocr_read(tmp_path):
    """check_cross_year over an archive: the same 上年结转 difference fails between two text reports, and asks
    for a human look once this year's figure is one the parse.ocr finding names."""
    from crawler.ingest import ingest_parsed
    from crawler.model import CellValue, IncomingDocument, ParsedReport
    from crawler.monitor.checks import check_cross_year

    ident = next(i for i in cross_identities("2021", "2021") if i.rule == CARRY_RULE)
    prev = dict.fromkeys(tpl.keys("2021"), 0) | dict.fromkeys(ident.last_year, 5)
    cur = dict.fromkeys(tpl.keys("2021"), 0) | {ident.this_year: 7}

    def parsed(year: int, values: dict, findings: list[Finding]) -> ParsedReport:
        cells = {k: CellValue(k, v, str(v)) for k, v in values.items()}
        title = f"某市人民防空办公室{year}年政府信息公开工作年度报告"
        return ParsedReport("某市人民防空办公室", year, "2021", title, None, {}, cells, findings, title, "text")

    def carry_status(ocr_cells: list[str]) -> str:
        db = tmp_path / f"{len(ocr_cells)}.db"
        with Archive(db) as archive:
            marks = [Finding("parse.ocr", "info", "info", "OCR", ocr_cells, data={"text": False})] if ocr_cells else []
            for year, values, findings in ((2023, prev, []), (2024, cur, marks)):
                doc = IncomingDocument(f"{year}".encode(), url=f"http://www.example.gov.cn/{year}.txt")
                ingest_parsed(archive, doc, parsed(year, values, findings))
            check_cross_year(archive)
            report_id = archive.conn.execute("SELECT id FROM reports WHERE year = 2024").fetchone()[0]
            found = archive.reports.findings(report_id, "cross_year")
        return next(f for f in found if f.rule == CARRY_RULE and f.cells == [ident.this_year]).status

    assert carry_status([]) == "fail"
    assert carry_status([ident.this_year]) == "not_assessable"
