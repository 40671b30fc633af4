"""Label variants and value forms, one at a time.

Labels are matched by meaning: typos, spaces and line breaks, full-width forms, numbering
styles and split or annotated headers all name the same template row or column. Values read
as printed: signed changes, units, decimals; dashes, slashes and 无 are null with a finding.
"""

from __future__ import annotations

import pytest

from crawler.parsing import build_report, labels
from crawler.parsing.document import Document, Table
from crawler.parsing.readers.pdf_columns import Word, header_band
from crawler.parsing.values import classify
from crawler.text import squash

TITLE = "某某市人民政府办公室2023年政府信息公开工作年度报告"


def application_row(label: str) -> str | None:
    s = squash(label)
    return labels.match_application_row(s, s, False)


@pytest.mark.parametrize(
    ("printed", "row"),
    [
        # typos seen in real reports, and one-character slips of OCR
        ("3.危机“三安全一稳定”", "refused.three_safety"),
        ("7.属于行政法案卷", "refused.enforcement_file"),
        ("一、本年浙收政府信息公开申请数量", "new"),
        ("（一）子以公开", "granted"),
        ("2.其他法律行政法规茜止公开", "refused.law_prohibited"),
        # spaces and line breaks inside a label
        ("1 . 属于 国家\n秘密", "refused.state_secret"),
        ("（二）部分公开（区分处理的，只计这一\n情形，不计其他情形）", "partial"),
        ("四、结转下年度\n继续办理", "carry_forward"),
        ("5.要求行政机关确认或重新出\n具已获取信息", "not_processed.confirmation"),
        # full- and half-width forms; 1. vs 1、
        ("１．属于国家秘密", "refused.state_secret"),
        ("1、属于国家秘密", "refused.state_secret"),
        ("(三)不予公开 8.属于行政查询事项", "refused.query_matter"),
        ("（四）无法提供 １、本机关不掌握相关政府信息", "unable.not_held"),
        # a nested label: the specific part, printed last, wins
        ("三、本年度办理结果（三）不予公开4.保护第三方合法权益", "refused.third_party"),
        ("（七）总计", "handled_total"),
        ("1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "other.no_correction"),
        ("2、申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "other.unpaid_fee"),
    ],
)
def test_application_row_labels(printed, row):
    assert application_row(printed) == row


def test_one_slip_tolerance_does_not_confuse_neighbouring_rows():
    # 重复申请 and 反复申请 differ by one character: an exact keyword always wins.
    assert application_row("2.重复申请") == "not_processed.duplicate"
    assert application_row("4.无正当理由大量反复申请") == "not_processed.excessive"
    assert application_row("（三）不予公开") is None  # a group heading names no row
    assert application_row("3.要求提供公开出版物") == "not_processed.publication"


def test_bare_other_only_inside_the_other_group():
    assert labels.match_application_row("3.其他", "3.其他", True) == "other.other"
    assert labels.match_application_row("3.其他", "3.其他", False) is None


@pytest.mark.parametrize(
    ("printed", "row"),
    [
        ("规章", "rules"),
        ("行政规范性文件", "normative_docs"),
        ("规 范 性\n文件", "normative_docs"),
        ("其他对外管理\n服务事项", "other_services"),
        ("行政事业性收费", "fees"),
        ("政府集中采购", "procurement"),
    ],
)
def test_active_row_labels(printed, row):
    assert labels.match_active_row(squash(printed)) == row


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("信息内容 本年制发件数 本年废止件数 现行有效件数", ["issued", "repealed", "in_force"]),
        ("信息内容 本年制发件数 本年废止件数 现行有效件数(历史累计)", ["issued", "repealed", "in_force"]),
        ("信息内容 本年制发件数 本年废止件数 现行有效件数（历史累计）", ["issued", "repealed", "in_force"]),
        ("信息内容 本年新\n制作数量 本年新\n公开数量 对外公开总数量", ["made", "published", "total"]),
        ("信息内容 上一年项目数量 本年增/减 处理决定数量", ["prev_count", "change", "decisions"]),
        ("信息内容 上一年项目数量 本年增（减） 处理决定数量", ["prev_count", "change", "decisions"]),
        ("信息内容 本年处理决定数量", ["decisions"]),
        ("信息内容 本年收费金额（单位：万元）", ["amount"]),
        ("信息内容 采购项目数量 采购总金额", ["items", "amount"]),
    ],
)
def test_active_column_headers(header, columns):
    assert labels.active_columns(squash(header)) == columns


def test_amount_unit_from_the_header():
    assert labels.amount_unit(squash("本年收费金额（单位：万元）")) == "万元"
    assert labels.amount_unit(squash("采购总金额")) is None


def _header_words(lines: list[list[tuple[str, float]]]) -> list[list[Word]]:
    """Printed header lines: (text, left x) per word, 12 points per line, 9-point characters."""
    return [[Word(t, x, x + 9 * len(t), 700 - 12 * k, 709 - 12 * k) for t, x in line] for k, line in enumerate(lines)]


def test_split_header_cells_stack_into_columns():
    # 商业/企业, 社会/公益/组织 printed over several lines in a table without ruling lines
    band = _header_words(
        [
            [("自然", 283), ("商业", 320), ("科研", 357), ("社会", 393), ("法律", 430), ("其他", 467), ("总计", 504)],
            [("人", 283), ("企业", 320), ("机构", 357), ("公益", 393), ("服务", 430)],
            [("组织", 393), ("机构", 430)],
        ]
    )
    columns, _, end = header_band(band, 0)
    assert [c.text for c in columns] == [
        "自然人",
        "商业企业",
        "科研机构",
        "社会公益组织",
        "法律服务机构",
        "其他",
        "总计",
    ]
    assert end == 3
    review = _header_words(
        [
            [("结果", 90), ("结果", 120), ("其他", 150), ("尚未", 180), ("总计", 210)],
            [("维持", 90), ("纠正", 120), ("结果", 150), ("审结", 180)],
        ]
    )
    columns, _, _ = header_band(review, 0)
    assert [c.text for c in columns] == ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


# ---- values -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("printed", "number", "unit"),
    [
        ("增7", 7, None),
        ("增加7", 7, None),
        ("减2", -2, None),
        ("减少2", -2, None),
        ("-2", -2, None),
        ("－2", -2, None),
        ("+3", 3, None),
        ("0万元", 0, "万元"),
        ("251000元", 251000, "元"),
        ("73802895.90元", 73802895.9, "元"),
        ("488.780058", 488.780058, None),
        ("96171.6", 96171.6, None),
        ("1,234", 1234, None),
        ("３１１９", 3119, None),
        (" 9 ", 9, None),
        ("12件", 12, None),
    ],
)
def test_value_forms(printed, number, unit):
    v = classify(printed)
    assert v is not None and v.number == number and type(v.number) is type(number)
    assert v.unit == unit and not v.marked


@pytest.mark.parametrize("printed", ["—", "——", "-", "/", "无", "－"])
def test_marks_are_null_and_marked(printed):
    v = classify(printed)
    assert v is not None and v.number is None and v.marked


def test_blank_is_null_and_not_marked():
    for printed in ("", " ", "\u3000"):
        v = classify(printed)
        assert v is not None and v.number is None and not v.marked


def test_labels_are_not_values():
    for printed in ("1.属于国家秘密", "规章", "2021年", "第二十条第（一）项"):
        assert classify(printed) is None


# ---- end to end: printed forms through a report -----------------------------------------------
def _report(rows: list[list[str | None]], active: list[list[str | None]] | None = None):
    blocks: list[str | Table] = [TITLE]
    if active:
        blocks += ["二、主动公开政府信息情况", Table(active)]
    blocks += ["三、收到和处理政府信息公开申请情况", Table(rows)]
    return build_report(Document(blocks, "html"))


def test_marks_and_blanks_in_a_report_are_null_with_findings():
    report = _report([["一、本年新收政府信息公开申请数量", "5", "—", "/", "无", "", "0", "5"]])
    v = report.values()
    prefix = "applications.new."
    assert [
        v[prefix + c]
        for c in ("natural_person", "commercial", "research", "social_welfare", "legal_service", "other_org", "total")
    ] == [5, None, None, None, None, 0, 5]
    marked = next(f for f in report.findings if f.rule == "parse.marked_empty")
    assert sorted(marked.cells) == [prefix + "commercial", prefix + "research", prefix + "social_welfare"]
    blank = next(f for f in report.findings if f.rule == "parse.blank_cells")
    assert prefix + "legal_service" in blank.cells and prefix + "commercial" not in blank.cells


def test_typo_label_and_numbering_style_in_a_report():
    report = _report(
        [
            ["（三）不予公开", "3.危机“三安全一稳定”", "1", "0", "0", "0", "0", "0", "1"],
            [None, "7、属于行政法案卷", "2", "0", "0", "0", "0", "0", "2"],
        ]
    )
    assert report.values()["applications.refused.three_safety.total"] == 1
    assert report.values()["applications.refused.enforcement_file.natural_person"] == 2


def test_header_variant_and_signed_change_in_a_report():
    active = [
        ["第二十条第（一）项", None, None, None],
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数(历史累计)"],
        ["规章", "1", "0", "11"],
        ["第二十条第（八）项", None, None, None],
        ["信息内容", "本年收费金额（单位：万元）", None, None],
        ["行政事业性收费", "96171.6", None, None],
    ]
    report = _report([["一、本年新收政府信息公开申请数量", "1", "0", "0", "0", "0", "0", "1"]], active)
    assert report.values()["active.rules.in_force"] == 11
    fee = report.cells["active.fees.amount"]
    assert fee.value == 96171.6 and fee.unit == "万元"
    old = [
        ["第二十条第（五）项", None, None, None],
        ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
        ["行政许可", "13", "增7", "0"],
        ["行政处罚", "6", "减2", "69"],
    ]
    report = _report([["一、本年新收政府信息公开申请数量", "1", "0", "0", "0", "0", "0", "1"]], old)
    assert report.values()["active.licensing.change"] == 7
    assert report.values()["active.penalty.change"] == -2


def test_a_row_label_without_cells_counts_as_an_incomplete_row():
    """Plain PDF text drops blank cells: "1.属于国家秘密" then the next row's label. The row is
    not invented, it is reported incomplete (which makes the PDF reader read by position)."""
    report = _report(
        [
            ["（三）不予公开", "1.属于国家秘密"],
            [None, "2.其他法律行政法规禁止公开", "1", "0", "0", "0", "0", "0", "1"],
        ]
    )
    assert not any(k.startswith("applications.refused.state_secret") for k in report.cells)
    short = next(f for f in report.findings if f.rule == "parse.incomplete_row")
    assert short.cells == ["applications.refused.state_secret"]
    assert report.values()["applications.refused.law_prohibited.total"] == 1
