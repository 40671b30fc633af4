"""Markdown as PDF→Markdown converters write it: every seed and the Huai'an cells, with pipe tables (merged cells
left blank as marker does, or repeated as docling does), HTML tables (MinerU), table 三 cut in two under a running
heading with its header repeated and a row split, a header repeated mid-table, and generic 数据1…N headers, read
back to exactly the hand-labelled cells. Generic headers whose totals do not confirm the column order give a
finding and no figures."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import pytest
from support.renditions import HTML_STYLE, MarkdownStyle, report_from, to_markdown
from support.shared import SHARED, expected_for, seed_paths
from test_parse_real import assert_matches

from crawler.model import ParseError
from crawler.parsing import limits, parse_bytes, sniff
from crawler.parsing.values import is_figure

SOURCES = {p.stem: expected_for(p) for p in seed_paths()} | {
    "huaian-2024": json.loads((SHARED / "real" / "expected" / "huaian-city-gov-2024.json").read_text())
}
BOTH = ("applications", "review")
STYLES = {
    "marker": MarkdownStyle(),
    "docling": MarkdownStyle(repeat=True),
    "mineru": MarkdownStyle(html_tables=True),
    "split": MarkdownStyle(split=True),
    "repeated-header": MarkdownStyle(repeated_header=True),
    "generic": MarkdownStyle(generic=BOTH),
    "split-generic-docling": MarkdownStyle(split=True, generic=BOTH, repeat=True),
    "repeated-generic": MarkdownStyle(repeated_header=True, generic=BOTH),
}


def _markdown(expected: dict, style: MarkdownStyle) -> bytes:
    return to_markdown(report_from(expected, HTML_STYLE), style).encode()


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_markdown_rendition_parses_back_exactly(name, style):
    data = _markdown(SOURCES[name], STYLES[style])
    assert sniff(data) == "markdown"
    report = parse_bytes(data)
    expected = SOURCES[name]
    assert report.format == "markdown"
    assert_matches(report.contract(), expected)
    assert (report.agency, report.year, report.template) == (expected["agency"], expected["year"], expected["template"])
    rules = [f.rule for f in report.findings]
    assert "parse.columns_unconfirmed" not in rules
    assert rules.count("parse.columns_by_order") == (2 if STYLES[style].generic else 0)


def test_the_renditions_really_are_shaped_like_converter_output():
    exp = SOURCES[sorted(SOURCES)[0]]
    split = _markdown(exp, STYLES["split"]).decode()
    assert split.count("申请人情况") == 2  # the header printed on both pieces
    assert "\n- 2 -\n" in split and f"\n## {exp['agency']}{exp['year']}年政府信息公开工作年度报告\n" in split
    lines = split.split("\n")
    cut = lines[lines.index("- 2 -") - 2].strip("| ").split(" | ")
    assert any(cut) and not any(is_figure(c) for c in cut)  # the row at the cut: its label's head, no figures
    generic = _markdown(exp, STYLES["generic"]).decode()
    assert "| 数据1 | 数据2 |" in generic and "| 数据15 |" in generic and "申请人情况" not in generic
    assert "<table>" in _markdown(exp, STYLES["mineru"]).decode()
    assert "| 申请人情况 | 申请人情况 |" in _markdown(exp, STYLES["docling"]).decode()


def _inconsistent_review(expected: dict) -> dict:
    """Table 四 printed as 洪泽区 printed it in 2023: 行政复议 维持 10, 纠正 1, 总计 0."""
    broken = copy.deepcopy(expected)
    broken["cells"].update({"review.upheld": 10, "review.corrected": 1, "review.total": 0})
    return broken


def test_generic_headers_whose_totals_do_not_hold_give_a_finding_and_no_figures():
    exp = _inconsistent_review(SOURCES["huaian-2024"])
    report = parse_bytes(_markdown(exp, MarkdownStyle(generic=BOTH)))
    review = {k: v for k, v in report.values().items() if k.startswith(("review.", "litigation_"))}
    assert len(review) == 15 and set(review.values()) == {None}
    finding = next(f for f in report.findings if f.rule == "parse.columns_unconfirmed")
    assert finding.status == "fail" and "数据1" in finding.message and finding.data["table"] == "review"
    assert any(f.rule == "parse.columns_by_order" and f.data["table"] == "applications" for f in report.findings)
    applications = {k: v for k, v in exp["cells"].items() if k.startswith("applications.")}
    assert {k: report.values()[k] for k in applications} == applications


def test_the_same_inconsistent_table_with_its_real_header_is_read_as_printed():
    """Parsing does not judge: with its own column labels the table is read, totals and all."""
    exp = _inconsistent_review(SOURCES["huaian-2024"])
    report = parse_bytes(_markdown(exp, MarkdownStyle()))
    assert (report.values()["review.upheld"], report.values()["review.total"]) == (10, 0)
    assert not any(f.rule.startswith("parse.columns_") for f in report.findings)


def test_generic_headers_over_the_tables_own_header_rows_are_dropped():
    """A converter that found no header names the columns 数据1… and prints the real header as rows below."""
    exp = _inconsistent_review(SOURCES["huaian-2024"])
    lines = _markdown(exp, MarkdownStyle()).decode().split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        delimiter = i + 1 < len(lines) and re.fullmatch(r"\|(?:---\|)+", lines[i + 1])
        if delimiter:
            out += ["| " + " | ".join(f"数据{k + 1}" for k in range(lines[i + 1].count("---"))) + " |", lines[i + 1]]
        if not re.fullmatch(r"\|(?:---\|)+", line):
            out.append(line)
    text = "\n".join(out)
    assert text.count("| 数据1 | 数据2 |") == 3
    report = parse_bytes(text.encode())
    assert_matches(report.contract(), exp)
    assert not any(f.rule.startswith("parse.columns_") for f in report.findings)


def test_generic_headers_over_a_table_of_unknown_width_give_a_finding():
    text = (
        "# 某某局2023年政府信息公开工作年度报告\n\n## 二、主动公开政府信息情况\n\n"
        "| 数据1 | 数据2 | 数据3 | 数据4 |\n|---|---|---|---|\n| 规章 | 1 | 0 | 5 |\n| 行政规范性文件 | 2 | 1 | 7 |\n"
    )
    report = parse_bytes(text.encode())
    assert any(f.rule == "parse.columns_unconfirmed" for f in report.findings)
    assert all(v is None for k, v in report.values().items() if k.startswith("active.rules"))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("<!DOCTYPE html><html><body><p>| a | b |</p>\n|---|---|\n</body></html>", "html"),
        ("<p>一、总体情况</p>\n| a | b |\n|---|---|\n", "html"),  # a fragment starts with markup
        ("# 标题\n\n正文。\n\n## 小标题\n\n更多正文。\n", "text"),  # headings alone: read as text
        ("# 标题\n\n## 表格\n\n<table><tr><td>规章</td><td>1</td></tr></table>\n", "markdown"),
        ("规章 | 1 | 0\n--- | --- | ---\n", "markdown"),  # no outer pipes
        ("| 规章 | 1 | 0 |\n| 规范性文件 | 2 | 0 |\n| 行政许可 | 3 | 1 |\n", "markdown"),  # no delimiter row
        ("规章\t1\t0\n规范性文件\t2\t0\n", "text"),
    ],
)
def test_sniffing_markdown(text, kind):
    assert sniff(text.encode()) == kind


def test_gbk_markdown_is_read():
    data = _markdown(SOURCES[sorted(SOURCES)[0]], STYLES["marker"]).decode().encode("gbk")
    assert sniff(data) == "markdown"
    assert_matches(parse_bytes(data).contract(), SOURCES[sorted(SOURCES)[0]])


def test_too_many_lines_is_too_large(monkeypatch):
    monkeypatch.setattr(limits, "MARKDOWN_LINES", 50)
    with pytest.raises(ParseError) as e:
        parse_bytes(_markdown(SOURCES[sorted(SOURCES)[0]], STYLES["marker"]))
    assert e.value.reason == "too_large"


@pytest.mark.parametrize("shape", ["wide", "ragged"])
def test_a_huge_pipe_table_is_too_large(monkeypatch, shape):
    """200 x 100 cells, or one row of 5,000 over 5,000 rows of one cell (each padded to 5,000)."""
    monkeypatch.setattr(limits, "GRID_CELLS", 100_000)
    if shape == "wide":
        row = "|" + " 0 |" * 200
        text = "# 表\n\n" + row + "\n|" + "---|" * 200 + "\n" + "\n".join([row] * 600)
    else:
        text = "# 表\n\n|" + " 0 |" * 5000 + "\n|---|---|\n" + "\n".join(["| 0 |"] * 5000)
    with pytest.raises(ParseError) as e:
        parse_bytes(text.encode())
    assert e.value.reason == "too_large"


def test_cli_parses_markdown(tmp_path):
    path = tmp_path / "report.md"
    path.write_bytes(_markdown(SOURCES["huaian-2024"], STYLES["split-generic-docling"]))
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "parse", "--json", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"agency", "year", "template", "signed_date", "cells", "findings"}
    assert out["agency"] == "淮安市人民政府" and out["cells"]["applications.handled_total.total"] == 3050


def test_figures_written_as_latex_and_tables_without_delimiter_rows():
    """MinerU writes some figures as inline math ($1 2$); people paste pipe rows without a delimiter row."""
    expected = SOURCES["huaian-2024"]
    text = _markdown(expected, STYLES["marker"]).decode()
    text = re.sub(r"\| (\d)(\d*) \|", lambda m: f"| ${m[1]} {m[2]}$ |" if m[2] else f"| ${m[1]}$ |", text)
    text = "\n".join(ln for ln in text.split("\n") if not re.fullmatch(r"\|(?:---\|)+", ln))
    assert "$3 001$" in text or "$3 0" in text
    assert_matches(parse_bytes(text.encode()).contract(), expected)


def test_a_header_repeated_in_part_is_skipped_too():
    """The second printing of table 三's header lacks the note cell (the converter lost it on that page)."""
    expected = SOURCES["huaian-2024"]
    text = _markdown(expected, STYLES["repeated-header"]).decode()
    note = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
    first = text.index(note)
    text = text[: first + 1] + text[first + 1 :].replace(note, "", 1)
    assert text.count(note) == 1 and text.count("申请人情况") == 2
    assert_matches(parse_bytes(text.encode()).contract(), expected)
