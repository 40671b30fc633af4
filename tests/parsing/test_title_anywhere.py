"""The agency and year come from the report's title wherever it stands: a portal page saved from the browser
and opened in Word puts the site's navigation, breadcrumb, metadata and links to other documents (other years'
reports, notices naming the report format) before the title."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from support.renditions import report_from, saved_page, to_docx
from support.shared import SHARED, expected_for, seed_paths
from test_parse_real import assert_matches

from crawler.parsing import meta, parse_bytes
from crawler.parsing.readers.docx import read_docx

SOURCES = {p.stem: expected_for(p) for p in seed_paths()} | {
    "huaian-2024": json.loads((SHARED / "real" / "expected" / "huaian-city-gov-2024.json").read_text())
}


def _docx(report) -> bytes:
    buf = io.BytesIO()
    to_docx(report, buf)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_saved_page_docx_yields_agency_year_and_cells(name):
    expected = SOURCES[name]
    data = _docx(saved_page(report_from(expected)))
    lines = read_docx(data).lines()
    assert lines.index(f"{expected['year']}年政府信息公开工作年度报告") > 15  # the title after the page chrome
    report = parse_bytes(data)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])
    assert report.title == f"{expected['agency']}{expected['year']}年政府信息公开工作年度报告"
    assert_matches(report.contract(), expected)


def test_without_a_stated_period_the_title_nearest_the_body_wins():
    """Links to the two previous years' reports come first; the report's own title sits above its body."""
    expected = SOURCES[sorted(SOURCES)[0]]
    report = saved_page(report_from(expected))
    report = replace(report, blocks=report.blocks[1:])  # the opening paragraph states the 统计期限
    parsed = parse_bytes(_docx(report))
    assert meta.statistics_year(parsed.text) is None
    assert (parsed.agency, parsed.year) == (expected["agency"], expected["year"])


def test_a_stated_period_picks_the_title_of_its_year():
    lines = [
        "网站首页 | 信息公开",
        "某某市统计局2021年政府信息公开工作年度报告",
        "某某市统计局2022年政府信息公开工作年度报告",  # the nearest to the body, but another year's
        "报告所列数据的统计期限自2021年1月1日起至2021年12月31日止。",
        "一、总体情况",
    ]
    assert meta.title_from(lines, None)[1:] == ("某某市统计局", 2021)


@pytest.mark.parametrize(
    "line",
    [
        "国务院办公厅政府信息与政务公开办公室关于印发《2020年政府信息公开工作年度报告格式》的通知",
        "当前位置：首页 > 政府信息公开 > 某某市统计局2020年政府信息公开工作年度报告",
        "首页 | 某某市统计局2020年政府信息公开工作年度报告",
        "关于某某市统计局2020年政府信息公开工作年度报告的解读",
    ],
)
def test_chrome_and_other_documents_are_no_title(line):
    lines = ["网站首页", "信息公开", "政务服务", "互动交流", line, "一、总体情况", "本年度……"]
    assert meta.title_from(lines, None) == (None, None, None)


def test_a_report_whose_title_names_no_agency_takes_none_from_the_chrome():
    expected = SOURCES[sorted(SOURCES)[0]]
    report = replace(saved_page(report_from(expected)), title=["政府信息公开工作年度报告"], closing=[])
    parsed = parse_bytes(_docx(report))
    assert parsed.agency is None or parsed.agency == expected["agency"]
    assert "通知" not in (parsed.agency or "") and "门户网站" not in (parsed.agency or "")
