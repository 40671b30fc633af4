"""Report year against the statistics period the report itself states (统计期限自Y年1月1日…)."""

from __future__ import annotations

import re

from crawler.model import Finding
from crawler.parsing.meta import statistics_year

RULE = "meta.statistics_year"
_YEAR = re.compile(r"(?:19|20)\d{2}")


def period_finding(title: str | None, year: int | None, text: str) -> Finding:
    stated = statistics_year(text)
    m = _YEAR.search(title or "")
    title_year = int(m[0]) if m else None
    data = {"scope": "period", "title_year": title_year, "statistics_year": stated}
    if stated is None or title_year is None:
        missing = "统计期限" if stated is None else "标题年份"
        return Finding(RULE, "not_assessable", "info", f"报告未写明{missing}，无法核对报告年度", data=data)
    if stated == title_year:
        return Finding(RULE, "pass", "info", f"报告年度（{title_year}年）与统计期限一致", data=data)
    return Finding(
        RULE,
        "fail",
        "warning",
        f"报告标题为{title_year}年度，但正文所述统计期限为{stated}年（可能沿用了上年报告）",
        data=data,
    )
