"""check_cross_year over an archive too large to hold at once: it reads a batch of agencies at a time, and an
agency's years are always compared whole, whatever the batch size; a second run rewrites nothing."""

from __future__ import annotations

import pytest

from crawler import template as tpl
from crawler.ingest import ingest_parsed
from crawler.model import CellValue, IncomingDocument, ParsedReport
from crawler.monitor import checks
from crawler.rules.cross_year import CARRY_RULE, cross_identities
from storage import Archive

AGENCIES = ("甲市人民防空办公室", "乙市人民防空办公室", "丙市人民防空办公室")


def parsed(agency: str, year: int, values: dict) -> ParsedReport:
    cells = {k: CellValue(k, v, str(v)) for k, v in values.items()}
    title = f"{agency}{year}年政府信息公开工作年度报告"
    return ParsedReport(agency, year, "2021", title, None, {}, cells, [], title, "text")


@pytest.mark.parametrize("batch", [1, 2, 500])
def test_every_agencys_years_are_compared_whatever_the_batch(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(checks, "CROSS_YEAR_BATCH", batch)
    ident = next(i for i in cross_identities("2021", "2021") if i.rule == CARRY_RULE)
    carried = dict.fromkeys(tpl.keys("2021"), 0) | dict.fromkeys(ident.last_year, 5)
    with Archive(tmp_path / "x.db") as archive:
        # interleaved: each agency's second year arrives after every agency's first
        for n, (year, agency) in enumerate((y, a) for y in (2023, 2024) for a in AGENCIES):
            values = carried if year == 2023 else dict.fromkeys(tpl.keys("2021"), 0) | {ident.this_year: 7 + n}
            doc = IncomingDocument(f"{agency}{year}".encode(), url=f"http://www.example.gov.cn/{n}.txt")
            ingest_parsed(archive, doc, parsed(agency, year, values))
        reports, counts = checks.check_cross_year(archive)
        assert reports == 6 and counts["fail"] >= 3
        rows = archive.conn.execute(
            "SELECT r.agency_name, r.year, f.id, f.message FROM findings f JOIN reports r ON r.id = f.report_id "
            "WHERE f.scope = 'cross_year' AND f.rule = ? AND f.status = 'fail' ORDER BY f.id",
            (CARRY_RULE,),
        ).fetchall()
        assert {(r["agency_name"], r["year"]) for r in rows} == {(a, 2024) for a in AGENCIES}
        assert all("5" in r["message"] for r in rows)  # each against its own 2023 report's 结转下年度

        checks.check_cross_year(archive)
        again = archive.conn.execute(
            "SELECT id FROM findings WHERE scope = 'cross_year' AND rule = ? AND status = 'fail' ORDER BY id",
            (CARRY_RULE,),
        ).fetchall()
        assert [r[0] for r in again] == [r["id"] for r in rows]  # unchanged findings are not rewritten
