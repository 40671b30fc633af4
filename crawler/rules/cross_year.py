"""Rules across two consecutive reports of the same agency.

- 上年结转: this year's 二、上年结转 = last year's 四、结转下年度继续办理, per applicant column
  (both template formats print these rows, so 2020 → 2021 is checked too);
- 2019 format, table 二: this year's 上一年项目数量 = last year's 上一年项目数量 + last year's 本年增/减.

Findings carry this year's cells; `data` names last year's cells and values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from crawler import template as tpl
from crawler.model import Finding
from crawler.rules.engine import Values, fmt
from crawler.rules.identities import short_label
from crawler.rules.provenance import human_look

CARRY_RULE = "cross_year.carried_over"
PREV_COUNT_RULE = "cross_year.active_prev_count"


@dataclass(frozen=True)
class YearReport:
    year: int
    template: str | None
    values: Values
    ocr: frozenset[str] = frozenset()  # cells read by OCR (the parse.ocr finding's cells): see rules.provenance


@dataclass(frozen=True)
class CrossIdentity:
    rule: str
    scope: str
    this_year: str  # cell key in this year's report
    last_year: tuple[str, ...]  # cell keys in last year's report, summed
    title: str


def cross_identities(prev_template: str, cur_template: str) -> list[CrossIdentity]:
    out = [
        CrossIdentity(
            CARRY_RULE,
            col,
            f"applications.carried_over.{col}",
            (f"applications.carry_forward.{col}",),
            f"本年“二、上年结转”应等于上年报告“四、结转下年度继续办理”（{label}）",
        )
        for col, label in tpl.APPLICANT_COLUMNS
    ]
    if prev_template == cur_template == "2019":
        for row, label, _block, cols in tpl.ACTIVE_ROWS["2019"]:
            if "prev_count" in cols and "change" in cols:
                out.append(
                    CrossIdentity(
                        PREV_COUNT_RULE,
                        row,
                        f"active.{row}.prev_count",
                        (f"active.{row}.prev_count", f"active.{row}.change"),
                        f"本年“{label}”上一年项目数量应等于上年报告的上一年项目数量+本年增/减",
                    )
                )
    return out


@cache
def cross_year_keys() -> frozenset[str]:
    """Every cell any cross-year rule reads, in either year and either format."""
    pairs = [(a, b) for a in tpl.TEMPLATES for b in tpl.TEMPLATES]
    return frozenset(k for a, b in pairs for i in cross_identities(a, b) for k in (i.this_year, *i.last_year))


def _label(template: str, key: str) -> str:
    return short_label(template, key) if key.startswith("applications.") else tpl.cell_index(template)[key].label


def cross_year_findings(prev: YearReport, cur: YearReport) -> list[Finding]:
    """Findings for `cur` against `prev` (the agency's report on cur.year − 1)."""
    if prev.template is None or cur.template is None or prev.year != cur.year - 1:
        return []
    out = []
    for ident in cross_identities(prev.template, cur.template):
        data = {"scope": f"{ident.scope}", "previous_year": prev.year, "previous_cells": list(ident.last_year)}
        if ident.this_year not in cur.values or any(k not in prev.values for k in ident.last_year):
            out.append(
                Finding(
                    ident.rule,
                    "not_assessable",
                    "info",
                    f"{ident.title}：缺少单元格，无法核对",
                    [ident.this_year],
                    data,
                )
            )
            continue
        now = cur.values[ident.this_year] or 0
        then = sum(prev.values[k] or 0 for k in ident.last_year)
        data.update(this_year_value=now, previous_value=then)
        if abs(now - then) < 1e-6:
            out.append(Finding(ident.rule, "pass", "info", f"{ident.title}：一致", [ident.this_year], data))
            continue
        before = "+".join(f"{_label(prev.template, k)}（{fmt(prev.values[k] or 0)}）" for k in ident.last_year)
        message = (
            f"{ident.title}：本年{cur.year}年度报告{_label(cur.template, ident.this_year)}为{fmt(now)}，"
            f"而{prev.year}年度报告{before}{'' if len(ident.last_year) == 1 else f'={fmt(then)}'}，相差{fmt(abs(now - then))}"
        )
        failed = Finding(ident.rule, "fail", "warning", message, [ident.this_year], data)
        read = [k for k in (ident.this_year,) if k in cur.ocr] + [f"{prev.year}:{k}" for k in ident.last_year if k in prev.ocr]
        out.append(human_look(failed, read) if read else failed)  # OCR never accuses (rules.provenance)
    return out
