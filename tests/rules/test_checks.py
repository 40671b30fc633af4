"""Every consistency rule on small hand-built tables (pass and fail), then on the real seeds and PDF."""

import json
import random
import subprocess
import sys

import numpy as np
import pytest
from support.shared import expected_for, seed_paths

from crawler import template as tpl
from crawler.ingest import examine_file
from crawler.rules import table_findings
from crawler.rules.cross_year import CARRY_RULE, PREV_COUNT_RULE, YearReport, cross_year_findings
from crawler.rules.identities import BALANCE, RESULT_ROWS, REVIEW_TOTAL, ROW_TOTAL, identities
from crawler.rules.matrix import STATUS_NAMES, compile_template, statuses, values_matrix
from crawler.rules.narrative import statements, text_findings
from crawler.rules.period import period_finding

A = "applications.{}.{}".format


def zeros(t: str) -> dict:
    return dict.fromkeys(tpl.keys(t), 0)


def put(values: dict, row: str, **cols) -> None:
    """Fill one table-三 row by applicant column and set its 总计 to their sum."""
    for col, v in cols.items():
        values[A(row, col)] = v
    values[A(row, "total")] = sum(values[A(row, c)] for c, _ in tpl.APPLICANT_COLUMNS if c != "total")


def consistent(t: str) -> dict:
    """A small table where every identity holds: 6+1 requests, 5 handled, 2 carried forward."""
    v = zeros(t)
    put(v, "new", natural_person=5, commercial=1)
    put(v, "carried_over", natural_person=1)
    put(v, "granted", natural_person=2, commercial=1)
    put(v, "unable.not_held", natural_person=1)
    last_other = "other" if t == "2019" else "other.other"
    put(v, last_other, natural_person=1)
    put(v, "handled_total", natural_person=4, commercial=1)
    put(v, "carry_forward", natural_person=2)
    v.update({"review.upheld": 1, "review.pending": 1, "review.total": 2})
    return v


def by(findings, rule, scope=None):
    return [f for f in findings if f.rule == rule and (scope is None or f.data.get("scope") == scope)]


def fails(findings):
    return [f for f in findings if f.status == "fail"]


@pytest.mark.parametrize("t", tpl.TEMPLATES)
def test_consistent_table_passes_every_identity(t):
    found = table_findings(t, consistent(t))
    assert len(found) == len(identities(t))
    assert {f.status for f in found} == {"pass"}


@pytest.mark.parametrize("t", tpl.TEMPLATES)
def test_balance_fails_per_column_and_names_cells_and_numbers(t):
    v = consistent(t)
    v[A("carry_forward", "natural_person")] = 3  # 5+1 ≠ 4+3
    v[A("carry_forward", "total")] = 3
    bad = by(fails(table_findings(t, v)), BALANCE)
    assert {f.data["scope"] for f in bad} == {"natural_person", "total"}
    f = by(bad, BALANCE, "natural_person")[0]
    assert A("carry_forward", "natural_person") in f.cells and f.severity == "error"
    assert "四、结转下年度继续办理/自然人（3）" in f.message and "相差1" in f.message
    assert f.data["left"] == 6 and f.data["right"] == 7


@pytest.mark.parametrize("t", tpl.TEMPLATES)
def test_row_total_must_equal_the_six_applicant_columns(t):
    v = consistent(t)
    v[A("granted", "research")] = 2  # the row's 总计 still says 3
    bad = fails(table_findings(t, v))
    rows = by(bad, ROW_TOTAL)
    assert [f.data["scope"] for f in rows] == ["granted"]
    assert "（一）予以公开/总计（3）" in rows[0].message and "（一）予以公开/科研机构（2）" in rows[0].message
    # the research column no longer sums to its (七)总计 either
    assert [f.data["scope"] for f in by(bad, RESULT_ROWS)] == ["research"]


def test_result_rows_2021_include_the_three_other_subrows():
    v = consistent("2021")
    put(v, "other.unpaid_fee", natural_person=1)  # a sixth-group sub-row the (七)总计 does not count
    bad = by(fails(table_findings("2021", v)), RESULT_ROWS)
    assert {f.data["scope"] for f in bad} == {"natural_person", "total"}
    assert "（六）其他处理 2.逾期未缴费/自然人（1）" in by(bad, RESULT_ROWS, "natural_person")[0].message
    # the 2019 format has one (六) row: the same number there is fine once (七) counts it
    v = consistent("2019")
    put(v, "other", natural_person=2)
    put(v, "handled_total", natural_person=5, commercial=1)
    put(v, "new", natural_person=6, commercial=1)
    assert not fails(table_findings("2019", v))


@pytest.mark.parametrize("group", [g for g, _ in tpl.REVIEW_GROUPS])
def test_review_and_litigation_totals_per_group(group):
    v = consistent("2021")
    v.update(
        {f"{group}.upheld": 2, f"{group}.corrected": 1, f"{group}.other": 0, f"{group}.pending": 1, f"{group}.total": 4}
    )
    assert not fails(table_findings("2021", v))
    v[f"{group}.corrected"] = 2
    bad = fails(table_findings("2021", v))
    assert [(f.rule, f.data["scope"]) for f in bad] == [(REVIEW_TOTAL, group)]
    assert "总计（4）" in bad[0].message and "合计5" in bad[0].message


def test_blank_cells_count_as_zero_and_are_said_not_failed():
    v = consistent("2021")
    for col in ("commercial", "research", "social_welfare"):
        v[A("partial", col)] = None
    v[A("partial", "total")] = None
    found = table_findings("2021", v)
    assert not fails(found)
    row = by(found, ROW_TOTAL, "partial")[0]
    assert row.status == "pass" and "空白单元格按0计" in row.message and A("partial", "total") in row.data["blank"]


def test_blank_total_where_a_number_is_due_fails_with_its_own_wording():
    v = consistent("2021")
    v[A("handled_total", "total")] = None  # the parts say 5
    bad = by(fails(table_findings("2021", v)), ROW_TOTAL, "handled_total")
    assert len(bad) == 1 and bad[0].data["blank_total"]
    assert "（七）总计/总计空白，但分项合计为5" in bad[0].message


def test_missing_or_unreadable_cells_are_not_assessable_never_pass():
    v = consistent("2019")
    del v[A("new", "total")]
    found = table_findings("2019", v, unreadable={A("granted", "natural_person")})
    na = [f for f in found if f.status == "not_assessable"]
    assert {(f.rule, f.data["scope"]) for f in na} == {
        (BALANCE, "total"),
        (ROW_TOTAL, "new"),
        (ROW_TOTAL, "granted"),
        (RESULT_ROWS, "natural_person"),
    }
    assert all("无法核对" in f.message for f in na)
    assert not fails(found)


def test_fingerprint_is_stable_across_pass_and_fail():
    v = consistent("2021")
    before = by(table_findings("2021", v), BALANCE, "total")[0]
    v[A("new", "total")] = 99
    after = by(table_findings("2021", v), BALANCE, "total")[0]
    assert (before.status, after.status) == ("pass", "fail")
    assert before.fingerprint == after.fingerprint
    others = {f.fingerprint for f in table_findings("2021", v)}
    assert len(others) == len(identities("2021"))  # one distinct fingerprint per identity


# --- text against table ------------------------------------------------------------------------
def test_statements_read_real_wordings():
    prose = (
        "2024年,全市共受理政府信息公开申请3119件,答复3050件(含上年度结转申请34件,另有103件顺延到下年度答复)。"
        "政府信息公开行政复议351件,其中结果维持72件,结果纠正64件,其他结果178件,尚未审结37件;"
        "政府信息公开行政诉讼46件,其中结果维持25件。"
        "2021年我办共受理办结依申请公开事项9件,8件全部依法依规予以答复,结转下年度办理1件。"
        "2020年,收到1项依申请公开事项,其中予以公开4件。"
    )
    got = [(s.scope, s.value) for s in statements(prose)]
    assert got == [
        ("received", 3119),
        ("handled", 3050),
        ("carried_over", 34),
        ("carry_forward", 103),
        ("review", 351),
        ("review.upheld", 72),
        ("review.corrected", 64),
        ("review.other", 178),
        ("review.pending", 37),
        ("litigation", 46),
        ("litigation.upheld", 25),
        ("received", 9),
        ("handled", 8),
        ("carry_forward", 1),
        ("received", 1),
        ("granted", 4),
    ]


@pytest.mark.parametrize(
    "prose",
    [
        "2020年度处理政务咨询件23件,微博信息发布10条。",  # consultations are not requests
        "全年共收到政府信息公开申请5000余件。",  # approximate
        "其中通过网上申请平台收到申请10件。",  # a channel, not the total
        "按时答复率100%,申请人满意率98%。",  # timeliness, not in the table
        "办理人大代表建议答复15件。",  # not about requests
        "未发生因政府信息公开被纠正的行政复议案件。",  # says nothing about the total
        "行政复议、行政诉讼各1件。",  # two quantities in one clause
        "全市行政复议案件1200件。",  # not about disclosure
    ],
)
def test_vague_or_unrelated_sentences_assert_nothing(prose):
    assert statements(prose) == []


def test_statements_carry_their_topic_across_clauses_and_sentences():
    prose = (
        "2022年,共收到政府信息公开申请1234件,同比增长12.5%,其中上年结转申请15件。"
        "全年办结1200件,其中予以公开523件,占43.6%。"  # no 申请 here: the sentence before names the topic
        "本局共受理信息公开申请10件,其中当面申请1宗,占10%;网上申请9宗,占90%。"  # channel shares are not grants
    )
    got = [(s.scope, s.value) for s in statements(prose)]
    assert got == [
        ("received", 1234),
        ("carried_over", 15),
        ("handled", 1200),
        ("granted", 523),
        ("text.granted_share", 43.6),
        ("received", 10),
    ]


def test_zero_statements():
    got = [(s.scope, s.value) for s in statements("本年度未收到政府信息公开申请,未发生政府信息公开行政复议。")]
    assert got == [("received", 0), ("review", 0)]
    both = statements("本机关未发生因政府信息公开引起的行政复议、行政诉讼。")
    assert [(s.scope, s.value) for s in both] == [("review", 0), ("litigation", 0)]
    assert statements("未发生因政府信息公开被行政复议纠错或行政诉讼败诉的情况。") == []


def _report_values():
    v = consistent("2021")  # new 6, carried 1, handled 5, carry forward 2, granted 3, review 2
    return v


@pytest.mark.parametrize(
    "sentence, status",
    [
        ("全年共收到政府信息公开申请6件。", "pass"),
        ("全年共收到政府信息公开申请7件(含上年结转1件)。", "pass"),  # new + carried over is a fair reading
        ("全年共收到政府信息公开申请8件。", "fail"),
        ("对收到的申请,予以公开3件,部分公开0件。", "pass"),
        ("依申请公开工作中予以公开4件。", "fail"),
        ("共办结政府信息公开申请5件。", "pass"),
        ("共办结政府信息公开申请6件。", "fail"),
        ("结转下年度继续办理的申请2件。", "pass"),
        ("结转下年度继续办理的申请1件。", "fail"),
        ("因政府信息公开被申请行政复议2件。", "pass"),
        ("因政府信息公开被申请行政复议3件。", "fail"),
        ("因政府信息公开被提起行政诉讼1件。", "fail"),
        ("本年度政府信息公开申请予以公开比例为60%。", "pass"),  # 3/5 handled
        ("本年度政府信息公开申请予以公开比例为90%。", "fail"),
    ],
)
def test_text_against_table(sentence, status):
    found = text_findings({"一": sentence}, sentence, "2021", _report_values())
    assert found and {f.status for f in found} == {status}
    if status == "fail":
        assert found[0].severity == "warning" and "正文与表格不符" in found[0].message
        assert found[0].data["quotes"][0] in found[0].message  # the words that state the number


def test_text_rule_not_assessable_without_statements_or_table_part():
    v = _report_values()
    assert [f.status for f in text_findings({"一": "我办加强组织领导。"}, "", "2021", v)] == ["not_assessable"]
    del v[A("new", "total")]
    found = text_findings({"一": "共收到申请6件。"}, "", "2021", v)
    assert [f.status for f in found] == ["not_assessable"]


def test_statistics_period_against_report_year():
    text = "本报告中所列数据的统计期限自2021年1月1日起至2021年12月31日止。"
    assert period_finding("2021年度政府信息公开工作年度报告", 2021, text).status == "pass"
    bad = period_finding("2022年度政府信息公开工作年度报告", 2022, text)
    assert bad.status == "fail" and "2022" in bad.message and "2021" in bad.message
    assert period_finding("2022年度政府信息公开工作年度报告", 2022, "无统计期限").status == "not_assessable"


# --- real documents ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_reports():
    return {expected_for(p)["agency"]: examine_file(p) for p in seed_paths()}


def test_seeds_pass_every_in_table_check(seed_reports):
    for agency, report in seed_reports.items():
        sums = [f for f in report.findings if f.rule.startswith("sum.")]
        assert sums and not fails(sums), agency
        assert all(
            f.status in ("pass", "not_assessable")
            for f in report.findings
            if f.rule.startswith(("sum.", "text.", "meta."))
        ), agency
    zibo = next(r for a, r in seed_reports.items() if a.startswith("淄博"))
    assert any(f.status == "not_assessable" for f in zibo.findings if f.rule == BALANCE)  # truncated table


def test_jiaxing_blanks_are_reported_as_blank_not_failures(seed_reports):
    jiaxing = next(r for a, r in seed_reports.items() if a.startswith("嘉兴"))
    partial = [f for f in jiaxing.findings if f.rule == ROW_TOTAL and f.data["scope"] == "partial"][0]
    assert partial.status == "pass" and "7个空白单元格按0计" in partial.message
    assert any(f.rule == "parse.blank_cells" for f in jiaxing.findings)
    texts = {f.data["scope"]: f.status for f in jiaxing.findings if f.rule.startswith("text.")}
    assert texts == {"received": "pass", "handled": "pass", "carry_forward": "pass", "litigation": "pass"}


def test_real_pdf_raises_no_false_alarm_and_checks_its_narrative(real_pdf):
    report = examine_file(real_pdf)
    assert not fails(report.findings)
    checked = {f.data["scope"] for f in report.findings if f.rule.startswith("text.") and f.status == "pass"}
    assert {"received", "handled", "carried_over", "carry_forward", "review", "litigation"} <= checked


def test_parse_json_lists_rule_results(tmp_path):
    path = next(p for p in seed_paths() if expected_for(p)["agency"].startswith("沈阳"))
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "parse", "--json", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    findings = json.loads(out.stdout)["findings"]
    rules = [f for f in findings if f["rule"].startswith("sum.")]
    assert len(rules) == len(identities("2019"))
    assert all({"rule", "status", "severity", "message", "cells", "fingerprint"} <= set(f) for f in rules)
    # a mutated copy of the same text fails, through the CLI
    original = path.read_text(encoding="utf-8")
    text = original.replace("（七）总计\n\t1\n", "（七）总计\n\t2\n", 1)  # one cell per line in this seed
    assert text != original
    bad = tmp_path / "bad.txt"
    bad.write_text(text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "parse", "--json", str(bad)], capture_output=True, text=True
    )
    failing = [f for f in json.loads(out.stdout)["findings"] if f["status"] == "fail"]
    assert failing and all("applications.handled_total.natural_person" in f["cells"] for f in failing)


# --- the matrix path agrees with the engine ------------------------------------------------------
@pytest.mark.parametrize("t", tpl.TEMPLATES)
def test_matrix_statuses_match_the_engine(t):
    rng = random.Random(7)
    reports = []
    for _ in range(300):
        v = consistent(t)
        for _ in range(rng.randint(0, 2)):
            key = rng.choice(tpl.keys(t))
            choice = rng.random()
            if choice < 0.6:
                v[key] = (v[key] or 0) + rng.choice([-2, -1, 1, 3])
            elif choice < 0.8:
                v[key] = None
            else:
                del v[key]
        reports.append(v)
    compiled = compile_template(t)
    values, missing = values_matrix(compiled, reports)
    got = statuses(compiled, values, missing)
    for i, v in enumerate(reports):
        want = [f.status for f in table_findings(t, v)]
        assert [STATUS_NAMES[s] for s in got[i]] == want
    assert (got == 1).any() and (got == 2).any() and (got == 0).any()
    assert np.array_equal(
        statuses(compiled, *values_matrix(compiled, [consistent(t)])), np.zeros((1, len(identities(t))))
    )


# --- cross-year ---------------------------------------------------------------------------------
def _year(year, t, v):
    return YearReport(year, t, v)


def test_cross_year_carried_over_per_column_pass_and_fail():
    last, this = consistent("2019"), consistent("2021")  # 2020 (2019 format) → 2021 (2021 format)
    this[A("carried_over", "natural_person")] = 2  # last year carried 2 forward
    this[A("carried_over", "total")] = 2
    found = cross_year_findings(_year(2020, "2019", last), _year(2021, "2021", this))
    assert {f.rule for f in found} == {CARRY_RULE}  # 本年增/减 exists only in the 2019 format
    assert not fails(found)
    this[A("carried_over", "natural_person")] = 5
    bad = fails(cross_year_findings(_year(2020, "2019", last), _year(2021, "2021", this)))
    assert [f.data["scope"] for f in bad] == ["natural_person"]
    assert "2020年度报告四、结转下年度继续办理/自然人（2）" in bad[0].message and "相差3" in bad[0].message
    assert bad[0].cells == [A("carried_over", "natural_person")] and bad[0].data["previous_year"] == 2020
    # not consecutive years: nothing to compare
    assert cross_year_findings(_year(2019, "2019", last), _year(2021, "2021", this)) == []


def test_cross_year_2019_prev_count_plus_change():
    last, this = consistent("2019"), consistent("2019")
    last.update({"active.penalty.prev_count": 40, "active.penalty.change": -3})
    this["active.penalty.prev_count"] = 37
    found = [
        f
        for f in cross_year_findings(_year(2019, "2019", last), _year(2020, "2019", this))
        if f.rule == PREV_COUNT_RULE
    ]
    assert {f.data["scope"] for f in found} == {"licensing", "other_services", "penalty", "enforcement", "fees"}
    assert not fails(found)
    this["active.penalty.prev_count"] = 40  # forgot last year's 减3
    (bad,) = [
        f
        for f in fails(cross_year_findings(_year(2019, "2019", last), _year(2020, "2019", this)))
        if f.rule == PREV_COUNT_RULE
    ]
    assert bad.rule == PREV_COUNT_RULE and "（40）+" in bad.message and "（-3）=37" in bad.message
    del last["active.fees.change"]
    na = [
        f
        for f in cross_year_findings(_year(2019, "2019", last), _year(2020, "2019", this))
        if f.status == "not_assessable"
    ]
    assert [f.data["scope"] for f in na] == ["fees"]
