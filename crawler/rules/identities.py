"""The arithmetic the national template itself states, as data.

Every in-table rule is an `Identity`: the cells on the left must add up to the cells on the
right. A new identity is one more entry in `identities()`; the evaluators (engine.py for one
report, matrix.py for millions) need no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crawler import template as tpl

_PERSON_COLUMNS = [c for c, _ in tpl.APPLICANT_COLUMNS if c != "total"]
_ALL_COLUMNS = [c for c, _ in tpl.APPLICANT_COLUMNS]
_COLUMN_LABEL = dict(tpl.APPLICANT_COLUMNS)
_GROUP_LABEL = dict(tpl.REVIEW_GROUPS)


@dataclass(frozen=True)
class Identity:
    rule: str  # stable rule id, shared by all identities of one kind
    scope: str  # what distinguishes this identity within its rule (a column, a row, a group)
    left: tuple[str, ...]  # cell keys summed on the left
    right: tuple[str, ...]  # cell keys summed on the right
    title: str  # Chinese name of the identity, for messages
    total_side: str = "left"  # the side holding the printed total (for "blank total" wording)

    @property
    def cells(self) -> tuple[str, ...]:
        return self.left + self.right


# Rule ids (stable: they are stored in the archive and in alert fingerprints).
BALANCE = "sum.applications_balance"
ROW_TOTAL = "sum.row_total"
RESULT_ROWS = "sum.result_rows"
REVIEW_TOTAL = "sum.review_total"



def _k(row: str, col: str) -> str:
    return f"applications.{row}.{col}"


@cache
def identities(template: str) -> tuple[Identity, ...]:
    """All in-table identities of one template format."""
    out: list[Identity] = []
    for col in _ALL_COLUMNS:
        out.append(
            Identity(
                BALANCE,
                col,
                (_k("new", col), _k("carried_over", col)),
                (_k("handled_total", col), _k("carry_forward", col)),
                f"表三“{_COLUMN_LABEL[col]}”列：一、本年新收+二、上年结转=（七）总计+四、结转下年度",
                total_side="none",
            )
        )
    for row, _label in tpl.application_rows(template):
        out.append(
            Identity(
                ROW_TOTAL,
                row,
                (_k(row, "total"),),
                tuple(_k(row, c) for c in _PERSON_COLUMNS),
                f"表三“{short_row_label(template, row)}”行：总计=六类申请人之和",
            )
        )
    results = tpl.result_rows(template)
    for col in _ALL_COLUMNS:
        out.append(
            Identity(
                RESULT_ROWS,
                col,
                (_k("handled_total", col),),
                tuple(_k(r, col) for r in results),
                f"表三“{_COLUMN_LABEL[col]}”列：（七）总计=（一）至（六）各项之和",
            )
        )
    for group, label in tpl.REVIEW_GROUPS:
        out.append(
            Identity(
                REVIEW_TOTAL,
                group,
                (f"{group}.total",),
                tuple(f"{group}.{c}" for c in ("upheld", "corrected", "other", "pending")),
                f"表四“{label}”：总计=结果维持+结果纠正+其他结果+尚未审结",
            )
        )
    return tuple(out)


@cache
def covered_cells(template: str) -> frozenset[str]:
    """Cells that at least one identity constrains (a change to any of them must be caught)."""
    return frozenset(k for ident in identities(template) for k in ident.cells)


# Table-三 rows whose printed labels are too long to repeat inside a message.
_SHORT_ROWS = {
    "new": "一、本年新收申请",
    "carried_over": "二、上年结转申请",
    "partial": "（二）部分公开",
    "other.no_correction": "（六）其他处理 1.逾期不补正",
    "other.unpaid_fee": "（六）其他处理 2.逾期未缴费",
    "carry_forward": "四、结转下年度继续办理",
}


def short_row_label(template: str, row: str) -> str:
    """A compact table-三 row label, e.g. （二）部分公开."""
    return _SHORT_ROWS.get(row) or dict(tpl.application_rows(template))[row]


def short_label(template: str, key: str) -> str:
    """A compact Chinese name for any cell, used inside messages."""
    cell = tpl.cell_index(template)[key]
    if cell.table == "applications":
        row = cell.row.removeprefix("applications.")
        return f"{short_row_label(template, row)}/{_COLUMN_LABEL[cell.column]}"
    if cell.table == "review_litigation":
        return f"{_GROUP_LABEL[cell.row]}/{dict(tpl.REVIEW_COLUMNS)[cell.column]}"
    return cell.label
