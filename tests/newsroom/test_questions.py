"""A journalist who does not write SQL answers each question of issue 12 by clicking from the front page of a real
`xxgk serve` over the demo archive, in Debian Chromium. Every page visited is saved as a screenshot.

What a page must show is read from the archive itself (the deadline verdicts, the cells of each version), so a
test fails when the page and the archive disagree, not when the demo's story changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from storage.db import sqlite3

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def archive(db: Path):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def verdict(db: Path, agency: str, year: int):
    with archive(db) as conn:
        return conn.execute(
            "SELECT d.* FROM deadline_status d JOIN agencies a ON a.id = d.agency_id WHERE a.name = ? AND d.year = ?",
            (agency, year),
        ).fetchone()


def shoot(page, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def pick_year(page, year: int) -> None:
    page.select_option("form.pickers select[name=year]", str(year))
    page.wait_for_url(f"**year={year}*")


def test_front_page_asks_the_five_questions(page, shots, demo_db):
    shoot(page, shots, "front")
    questions = page.locator(".question h2").all_inner_texts()
    assert questions == ["谁逾期或未公开？", "谁的数字对不上？", "某个机关历年怎么样？", "发布后改了什么？", "全文搜索"]
    with archive(demo_db) as conn:
        latest = conn.execute(
            "SELECT max(year) FROM deadline_status WHERE status IN ('on_time', 'late', 'missing')"
        ).fetchone()[0]
        monitored = conn.execute("SELECT count(*) FROM agencies WHERE in_registry = 1").fetchone()[0]
    assert page.locator("select[name=year]").input_value() == str(latest)  # the latest due year by default
    assert f"监测 {monitored} 个机关" in page.locator(".coverage").inner_text()
    assert "未能核实" in page.locator(".coverage").inner_text()


def test_who_did_not_publish(page, shots, demo_db):
    """嘉兴市人民政府 2023: 未公开, with how long past the deadline and the pages checked."""
    pick_year(page, 2023)
    page.click("text=谁逾期或未公开？")
    page.wait_for_url("**/-/deadlines?*")
    shoot(page, shots, "deadlines-2023")
    row = page.locator("tr", has=page.locator("a", has_text="嘉兴市人民政府"))
    expected = verdict(demo_db, "嘉兴市人民政府", 2023)
    assert expected["status"] == "missing"
    text = row.inner_text()
    assert "未公开" in text and f"已过截止日期 {expected['days_late']} 天" in text
    for url in json.loads(expected["pages_checked"]):
        assert url in text
    assert page.locator("tr", has=page.locator("a", has_text="嘉兴市人民防空办公室")).count() == 0  # on time


def test_who_was_late_and_by_how_much(page, shots, demo_db):
    """温州 2022: 逾期, its days, its publication date and where that date came from, in words."""
    pick_year(page, 2022)
    page.click("text=谁逾期或未公开？")
    page.wait_for_url("**/-/deadlines?*")
    shoot(page, shots, "deadlines-2022")
    expected = verdict(demo_db, "温州市人民防空办公室", 2022)
    assert expected["status"] == "late"
    row = page.locator("tr", has=page.locator("a", has_text="温州市人民防空办公室")).inner_text()
    assert f"逾期 {expected['days_late']} 天" in row
    assert expected["published_at"] in row and "日期来源：网页上显示的发布时间" in row


def test_whose_numbers_do_not_add_up(page, shots, demo_db):
    """沈阳市人民政府 2022: its failing cells highlighted in the 表三 grid, the finding beside them."""
    pick_year(page, 2022)
    page.click("text=谁的数字对不上？")
    page.wait_for_url("**/-/inconsistent?*")
    shoot(page, shots, "inconsistent-2022")
    page.locator("a", has_text="沈阳市人民政府 2022年度报告").first.click()
    page.wait_for_url("**/-/report/*")
    shoot(page, shots, "report-shenyang-2022")
    report_id = int(re.search(r"/-/report/(\d+)", page.url).group(1))
    with archive(demo_db) as conn:
        failing = conn.execute(
            "SELECT message, cells FROM findings WHERE report_id = ? AND status = 'fail' ORDER BY id", (report_id,)
        ).fetchall()
        printed = dict(
            conn.execute(
                "SELECT k.key, c.raw FROM cells c JOIN cell_keys k ON k.id = c.key_id WHERE c.report_id = ?",
                (report_id,),
            ).fetchall()
        )
    assert failing
    grid = page.locator("table.grid-三")
    highlighted = grid.locator("td.fail")
    keys = {k for f in failing for k in json.loads(f["cells"])}
    assert highlighted.count() == len(keys)
    # the (七)总计 row's 自然人 cell, as printed, is among them, and carries the finding's number
    total_row = grid.locator("tr", has=page.locator("th", has_text="（七）总计"))
    cell = total_row.locator("td").first
    assert "fail" in cell.get_attribute("class")
    assert cell.inner_text().startswith(printed["applications.handled_total.natural_person"])
    assert "[1]" in cell.inner_text()
    findings = page.locator("#findings ~ .finding").all_inner_texts()
    assert [f["message"] in text for f, text in zip(failing, findings, strict=True)] == [True] * len(failing)
    cell.scroll_into_view_if_needed()
    grid.screenshot(path=str(shots / "report-shenyang-2022-table3.png"))
    # the citation block: agency, title, source URL, fetched at in Beijing time, sha256
    citation = page.locator("dl.citation").inner_text()
    assert "沈阳市人民政府" in citation and "北京时间" in citation and re.search(r"[0-9a-f]{64}", citation)
    assert page.locator("a", has_text="下载原件：沈阳市人民政府_2022年度_政府信息公开工作年度报告").count() == 1


def test_an_agency_found_by_part_of_its_name(page, shots):
    page.fill(".question input[name=q] >> nth=0", "沈阳")
    page.locator(".question button").first.click()
    page.wait_for_url("**/-/agency?q=*")
    shoot(page, shots, "agencies-shenyang")
    names = page.locator("table.agencies tbody tr td:first-child").all_inner_texts()
    assert sorted(names) == ["沈阳市人民政府", "沈阳市人民防空办公室"]
    page.click("text=沈阳市人民政府")
    page.wait_for_url("**/-/agency?id=*")
    shoot(page, shots, "agency-shenyang-government")
    years = page.locator("table.record thead th").all_inner_texts()[1:]
    assert len(years) >= 5 and years == sorted(years)
    assert page.locator("table.record .status").count() == len(years)
    assert page.locator("figure.xxgk-chart svg polyline").count() >= 1  # the trend


def test_what_changed_after_publication(page, shots, demo_db):
    """大渡口 2023: every cell before → after, and the text diff of its sections."""
    pick_year(page, 2023)
    page.click("text=发布后改了什么？")
    page.wait_for_url("**/-/changes?*")
    shoot(page, shots, "changes-2023")
    row = page.locator("tr", has_text="重庆市大渡口区人民政府")
    row.locator("a", has_text="改了什么").click()
    page.wait_for_url("**/-/changes/*/*")
    shoot(page, shots, "change-dadukou-2023")
    report_id, version = map(int, re.search(r"/-/changes/(\d+)/(\d+)", page.url).groups())
    with archive(demo_db) as conn:
        before = dict(conn.execute(
            "SELECT k.label, v.raw FROM version_cells v JOIN cell_keys k ON k.id = v.key_id "
            "WHERE v.report_id = ? AND v.version = ?", (report_id, version - 1)).fetchall())
        after = dict(conn.execute(
            "SELECT k.label, c.raw FROM cells c JOIN cell_keys k ON k.id = c.key_id WHERE c.report_id = ?",
            (report_id,)).fetchall())
    differ = {label: (before.get(label), after.get(label)) for label in set(before) | set(after)
              if before.get(label) != after.get(label)}
    assert differ
    shown = {}
    for tr in page.locator("table.cell-changes tbody tr").all():
        label, old, new = tr.locator("td").all_inner_texts()
        shown[label] = (old, new)
    assert shown == differ
    assert page.locator(".diff ins").count() >= 1 and page.locator(".diff del").count() >= 1


def test_search_finds_the_narrative_with_a_highlighted_snippet(page, shots):
    """A word of one report's narrative: found, ranked, the term marked; a template label alone finds nothing."""
    search = page.locator(".question form[action='/-/search'] input[name=q]")
    search.fill("更正")
    search.press("Enter")
    page.wait_for_url("**/-/search?*")
    shoot(page, shots, "search-correction")
    hits = page.locator("li.hit")
    assert hits.count() >= 1
    first = hits.first
    assert "重庆市大渡口区人民政府 2023年度" in first.inner_text()
    assert first.locator(".snippet mark").first.inner_text() == "更正"
    # a label every report prints in its table (a row of 表三) is not a story
    page.fill("form.pickers input[name=q]", "信访举报投诉类申请")
    page.click("form.pickers button")
    page.wait_for_url("**q=*")
    assert page.locator("li.hit").count() == 0
    assert "只在表格栏目名称中出现" in page.locator("section.content").inner_text()


def test_a_chart_bar_opens_the_rows_behind_it(page, shots, demo_db):
    """图表: the share of each verdict by year; the 2023 bar opens that year's list, 嘉兴市人民政府 on it."""
    page.click(".xxgk-nav >> text=图表")
    page.wait_for_url("**/-/charts*")
    shoot(page, shots, "charts")
    assert page.locator("figure.xxgk-chart").count() == 4
    with archive(demo_db) as conn:
        due = conn.execute(
            "SELECT sum(status = 'on_time'), sum(status IN ('on_time', 'late', 'missing')) FROM deadline_status "
            "WHERE year = 2023"
        ).fetchone()
    assert f"{100 * due[0] / due[1]:.1f}%" in page.locator("figure.xxgk-chart").first.inner_text()
    page.locator("figure.xxgk-chart").nth(1).locator("a[href='/-/deadlines?year=2023']").click()
    page.wait_for_url("**/-/deadlines?year=2023")
    assert page.locator("tr", has=page.locator("a", has_text="嘉兴市人民政府")).count() == 1
