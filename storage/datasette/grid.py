"""Tables 二, 三 and 四 of the national template laid out as the report printed them, from the stored cells.

The rows, columns and labels come from crawler/template.py; each position carries the printed text and the
failing findings it takes part in, so the page can highlight it and name the finding beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.template import (
    ACTIVE_ROWS,
    APPLICANT_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    application_rows,
    cell_index,
)


@dataclass
class Position:
    key: str
    printed: str  # as the report printed it; "" blank, "（缺）" not in the document
    findings: list[int] = field(default_factory=list)  # numbers of the failing findings naming this cell

    @property
    def failing(self) -> bool:
        return bool(self.findings)


@dataclass
class Row:
    label: str
    positions: list[Position]
    heading: bool = False  # a label row without figures (三、本年度办理结果, an article block)


@dataclass
class Table:
    number: str  # 二 | 三 | 四
    title: str
    header: list[list[tuple[str, int, int]]]  # rows of (label, colspan, rowspan)
    rows: list[Row]


def _position(key: str, cells: dict, marks: dict[str, list[int]]) -> Position:
    cell = cells.get(key)
    printed = "（缺）" if cell is None else (cell["raw"] if cell["raw"] is not None else "")
    return Position(key, printed, marks.get(key, []))


def _active(template: str, cells: dict, marks: dict[str, list[int]]) -> Table:
    rows: list[Row] = []
    block_seen = None
    for row, label, block, columns in ACTIVE_ROWS[template]:
        if block != block_seen:
            index = cell_index(template)
            names = " / ".join(index[f"active.{row}.{c}"].label.rsplit(" / ", 1)[1] for c in columns)
            rows.append(Row(f"{block}　信息内容：{names}", [], heading=True))
            block_seen = block
        rows.append(Row(label, [_position(f"active.{row}.{c}", cells, marks) for c in columns]))
    return Table("二", "主动公开政府信息情况", [[("信息内容", 1, 1), ("数量", 3, 1)]], rows)


def _applications(template: str, cells: dict, marks: dict[str, list[int]]) -> Table:
    header = [
        [("申请人情况", 1, 2), ("自然人", 1, 2), ("法人或其他组织", 5, 1), ("总计", 1, 2)],
        [(label, 1, 1) for col, label in APPLICANT_COLUMNS if col not in ("natural_person", "total")],
    ]
    rows: list[Row] = []
    for row, label in application_rows(template):
        if row == "granted":
            rows.append(Row("三、本年度办理结果", [], heading=True))
        rows.append(Row(label, [_position(f"applications.{row}.{c}", cells, marks) for c, _ in APPLICANT_COLUMNS]))
    return Table("三", "收到和处理政府信息公开申请情况", header, rows)


def _reviews(cells: dict, marks: dict[str, list[int]]) -> Table:
    width = len(REVIEW_COLUMNS)
    header = [
        [("行政复议", width, 1), ("行政诉讼", 2 * width, 1)],
        [("（复议）", width, 1), ("未经复议直接起诉", width, 1), ("复议后起诉", width, 1)],
        [(label, 1, 1) for _ in REVIEW_GROUPS for _, label in REVIEW_COLUMNS],
    ]
    positions = [_position(f"{g}.{c}", cells, marks) for g, _ in REVIEW_GROUPS for c, _ in REVIEW_COLUMNS]
    return Table("四", "政府信息公开行政复议、行政诉讼情况", header, [Row("", positions)])


def tables(template: str | None, cells: dict, marks: dict[str, list[int]]) -> list[Table]:
    """The three tables of a report in its template (2019 or 2021); none when no template was read."""
    if template not in ACTIVE_ROWS:
        return []
    return [_active(template, cells, marks), _applications(template, cells, marks), _reviews(cells, marks)]
