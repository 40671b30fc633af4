"""check_cross_year over an archive too large to hold at once: it reads a batch of agencies at a time, and an
agency's years are always compared whole, whatever the batch size; a second run rewrites nothing."""

from __future__ import annotations

import pytest

from crawler import template as tpl
from crawler.ingest import ingest_parsed
from crawler.model import CellValue, Finding, IncomingDocument, ParsedReport
from crawler.monitor import checks
from crawler.rules.cross_year import CARRY_RULE, cross_identities
from storage import Archive

AGENCIES = ("甲市人民防空办公室", "乙市人民防空办公室", "丙市人民防空办公室")


def parsed(agency: str | None, year: int, values: dict) -> ParsedReport:
    cells = {k: CellValue(k, v, str(v)) for k, v in values.items()}
    title = f"{agency or ''}{year}年政府信息公开工作年度报告"
    return ParsedReport(agency, year, "2021", title, None, {}, cells, [], title, "text")


@pytest.mark.parametrize("batch", [1, 2, 500])
def test_every_agencys_years_are_compared_whatever_the_batch(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(checks, "CROSS_YEAR_BATCH", batch)
    ident = next(i for i in cross_identities("2021", "2021") if i.rule == CARRY_RULE)
    zeros = dict.fromkeys(tpl.keys("2021"), 0)
    carried = {agency: 11 + n for n, agency in enumerate(AGENCIES)}  # each agency's own 结转下年度
    with Archive(tmp_path / "x.db") as archive:
        # interleaved: each agency's second year arrives after every agency's first
        for n, (year, agency) in enumerate((y, a) for y in (2023, 2024) for a in AGENCIES):
            values = zeros | (dict.fromkeys(ident.last_year, carried[agency]) if year == 2023 else {ident.this_year: 7})
            doc = IncomingDocument(f"{agency}{year}".encode(), url=f"http://www.example.gov.cn/{n}.txt")
            ingest_parsed(archive, doc, parsed(agency, year, values))
        # and three reports no agency could be named for: compared with nothing, a stale finding cleared
        unnamed = []
        for n in range(3):
            doc = IncomingDocument(f"unnamed{n}".encode(), url=f"http://www.example.gov.cn/u{n}.txt")
            unnamed.append(ingest_parsed(archive, doc, parsed(None, 2023 + n, zeros)).report_id)
        assert {archive.reports.get(i).agency_id for i in unnamed} == {None}
        stale = Finding(CARRY_RULE, "fail", "warning", "stale", [ident.this_year])
        archive.reports.write_findings(unnamed[1], [stale], scope=checks.CROSS_YEAR_SCOPE)

        reports, counts = checks.check_cross_year(archive)
        assert reports == 9 and counts["fail"] >= 3
        rows = archive.conn.execute(
            "SELECT r.agency_name, r.year, f.id, f.message FROM findings f JOIN reports r ON r.id = f.report_id "
            "WHERE f.scope = 'cross_year' AND f.rule = ? AND f.status = 'fail' ORDER BY f.id",
            (CARRY_RULE,),
        ).fetchall()
        assert {(r["agency_name"], r["year"]) for r in rows} == {(a, 2024) for a in AGENCIES}
        for r in rows:  # each against its own agency's 2023 report
            assert f"（{carried[r['agency_name']]}）" in r["message"], r["message"]
        assert all(archive.reports.findings(i, checks.CROSS_YEAR_SCOPE) == [] for i in unnamed)

        checks.check_cross_year(archive)
        again = archive.conn.execute(
            "SELECT id FROM findings WHERE scope = 'cross_year' AND rule = ? AND status = 'fail' ORDER BY id",
            (CARRY_RULE,),
        ).fetchall()
        assert [r[0] for r in again] == [r["id"] for r in rows]  # unchanged findings are not rewritten
