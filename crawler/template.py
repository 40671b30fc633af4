"""The national annual-report template (国办公开办函〔2019〕60号 and 〔2021〕30号) as data.

Cell keys are the contract of `xxgk parse --json` and mirror ../shared/spec/cells.json
(tests/parsing/test_template.py holds the two equal). Rows and columns are declared once here; the
parser, the checks and the archive derive everything else from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

TEMPLATES = ("2019", "2021")


class Kind(StrEnum):
    COUNT = "count"  # a non-negative number of items or cases
    CHANGE = "change"  # 本年增/减: signed, 增7 → 7, 减2 → -2
    AMOUNT = "amount"  # money; decimals kept, unit recorded


@dataclass(frozen=True)
class Cell:
    key: str
    table: str  # active | applications | review_litigation
    row: str  # key prefix shared by the cells of one printed row, e.g. applications.granted
    column: str  # last key part, e.g. natural_person
    kind: Kind
    label: str  # Chinese row / column label, for messages and the archive


# --- 表二 主动公开政府信息情况: (row id, row label, article block, columns) -------------
# Column ids and labels per format; a row declares which columns it prints.
_ACTIVE_COLUMNS = {
    "made": ("本年新制作数量", Kind.COUNT),
    "published": ("本年新公开数量", Kind.COUNT),
    "total": ("对外公开总数量", Kind.COUNT),
    "issued": ("本年制发件数", Kind.COUNT),
    "repealed": ("本年废止件数", Kind.COUNT),
    "in_force": ("现行有效件数", Kind.COUNT),
    "prev_count": ("上一年项目数量", Kind.COUNT),
    "change": ("本年增/减", Kind.CHANGE),
    "decisions": ("处理决定数量", Kind.COUNT),
    "items": ("采购项目数量", Kind.COUNT),
    "amount": ("金额", Kind.AMOUNT),
}

ACTIVE_ROWS: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {
    "2019": [
        ("rules", "规章", "第二十条第（一）项", ("made", "published", "total")),
        ("normative_docs", "规范性文件", "第二十条第（一）项", ("made", "published", "total")),
        ("licensing", "行政许可", "第二十条第（五）项", ("prev_count", "change", "decisions")),
        ("other_services", "其他对外管理服务事项", "第二十条第（五）项", ("prev_count", "change", "decisions")),
        ("penalty", "行政处罚", "第二十条第（六）项", ("prev_count", "change", "decisions")),
        ("enforcement", "行政强制", "第二十条第（六）项", ("prev_count", "change", "decisions")),
        ("fees", "行政事业性收费", "第二十条第（八）项", ("prev_count", "change")),
        ("procurement", "政府集中采购", "第二十条第（九）项", ("items", "amount")),
    ],
    "2021": [
        ("rules", "规章", "第二十条第（一）项", ("issued", "repealed", "in_force")),
        ("normative_docs", "行政规范性文件", "第二十条第（一）项", ("issued", "repealed", "in_force")),
        ("licensing", "行政许可", "第二十条第（五）项", ("decisions",)),
        ("penalty", "行政处罚", "第二十条第（六）项", ("decisions",)),
        ("enforcement", "行政强制", "第二十条第（六）项", ("decisions",)),
        ("fees", "行政事业性收费", "第二十条第（八）项", ("amount",)),
    ],
}

# --- 表三 收到和处理政府信息公开申请情况 -------------------------------------------------
APPLICANT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("natural_person", "自然人"),
    ("commercial", "商业企业"),
    ("research", "科研机构"),
    ("social_welfare", "社会公益组织"),
    ("legal_service", "法律服务机构"),
    ("other_org", "其他"),
    ("total", "总计"),
)

_REFUSED = [
    ("refused.state_secret", "（三）不予公开 1.属于国家秘密"),
    ("refused.law_prohibited", "（三）不予公开 2.其他法律行政法规禁止公开"),
    ("refused.three_safety", "（三）不予公开 3.危及“三安全一稳定”"),
    ("refused.third_party", "（三）不予公开 4.保护第三方合法权益"),
    ("refused.internal_affairs", "（三）不予公开 5.属于三类内部事务信息"),
    ("refused.process_info", "（三）不予公开 6.属于四类过程性信息"),
    ("refused.enforcement_file", "（三）不予公开 7.属于行政执法案卷"),
    ("refused.query_matter", "（三）不予公开 8.属于行政查询事项"),
]
_UNABLE = [
    ("unable.not_held", "（四）无法提供 1.本机关不掌握相关政府信息"),
    ("unable.needs_creation", "（四）无法提供 2.没有现成信息需要另行制作"),
    ("unable.unclear", "（四）无法提供 3.补正后申请内容仍不明确"),
]
_NOT_PROCESSED = [
    ("not_processed.petition", "（五）不予处理 1.信访举报投诉类申请"),
    ("not_processed.duplicate", "（五）不予处理 2.重复申请"),
    ("not_processed.publication", "（五）不予处理 3.要求提供公开出版物"),
    ("not_processed.excessive", "（五）不予处理 4.无正当理由大量反复申请"),
    ("not_processed.confirmation", "（五）不予处理 5.要求行政机关确认或重新出具已获取信息"),
]
_OTHER = {
    "2019": [("other", "（六）其他处理")],
    "2021": [
        ("other.no_correction", "（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
        ("other.unpaid_fee", "（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
        ("other.other", "（六）其他处理 3.其他"),
    ],
}


def application_rows(template: str) -> list[tuple[str, str]]:
    """Rows of table 三 in printed order: (row id under applications., label)."""
    return [
        ("new", "一、本年新收政府信息公开申请数量"),
        ("carried_over", "二、上年结转政府信息公开申请数量"),
        ("granted", "（一）予以公开"),
        ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
        *_REFUSED,
        *_UNABLE,
        *_NOT_PROCESSED,
        *_OTHER[template],
        ("handled_total", "（七）总计"),
        ("carry_forward", "四、结转下年度继续办理"),
    ]


# Result rows (一)–(六) that sum to (七)总计.
def result_rows(template: str) -> list[str]:
    rows = [r for r, _ in application_rows(template)]
    return rows[rows.index("granted") : rows.index("handled_total")]


# --- 表四 行政复议、行政诉讼 -----------------------------------------------------------
REVIEW_GROUPS: tuple[tuple[str, str], ...] = (
    ("review", "行政复议"),
    ("litigation_direct", "行政诉讼 未经复议直接起诉"),
    ("litigation_after_review", "行政诉讼 复议后起诉"),
)
REVIEW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("upheld", "结果维持"),
    ("corrected", "结果纠正"),
    ("other", "其他结果"),
    ("pending", "尚未审结"),
    ("total", "总计"),
)


@cache
def cells(template: str) -> tuple[Cell, ...]:
    """Every cell of a template format, in printed order."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    out: list[Cell] = []
    for row, label, block, columns in ACTIVE_ROWS[template]:
        for col in columns:
            col_label, kind = _ACTIVE_COLUMNS[col]
            out.append(Cell(f"active.{row}.{col}", "active", f"active.{row}", col, kind, f"{block} {label} / {col_label}"))
    for row, label in application_rows(template):
        for col, col_label in APPLICANT_COLUMNS:
            out.append(
                Cell(f"applications.{row}.{col}", "applications", f"applications.{row}", col, Kind.COUNT, f"{label} / {col_label}")
            )
    for group, label in REVIEW_GROUPS:
        for col, col_label in REVIEW_COLUMNS:
            out.append(Cell(f"{group}.{col}", "review_litigation", group, col, Kind.COUNT, f"{label} / {col_label}"))
    return tuple(out)


@cache
def keys(template: str) -> tuple[str, ...]:
    return tuple(c.key for c in cells(template))


@cache
def cell_index(template: str) -> dict[str, Cell]:
    return {c.key: c for c in cells(template)}


def expected_template(year: int | None) -> str | None:
    """The format a report on `year` must use: 2019 for 2019–2020, 2021 from 2021."""
    if year is None or year < 2019:
        return None
    return "2019" if year <= 2020 else "2021"
